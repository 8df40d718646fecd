import type pg from 'pg';

/** Inserts closes straight into the store (the importer has its own tests) and lists the symbols in the universe. */
export async function insertCloses(
  pool: pg.Pool,
  rows: { symbol: string; date: string; close: number }[],
): Promise<void> {
  await pool.query(
    `INSERT INTO market_data_cache (symbol, date, close)
     SELECT * FROM unnest($1::text[], $2::date[], $3::float8[])`,
    [rows.map((r) => r.symbol), rows.map((r) => r.date), rows.map((r) => r.close)],
  );
  await pool.query(
    `INSERT INTO symbol_universe (symbol, first_seen, last_seen)
     SELECT symbol, min(date), max(date) FROM market_data_cache GROUP BY symbol
     ON CONFLICT (symbol) DO UPDATE SET first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen`,
  );
}
