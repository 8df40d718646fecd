import type pg from 'pg';

/** One symbol's daily closes in [from, to], oldest first, as two parallel arrays (compact on the wire). */
export async function priceHistory(
  pool: pg.Pool,
  symbol: string,
  from: string,
  to: string,
): Promise<{ dates: string[]; closes: number[] }> {
  const { rows } = await pool.query<[string, number]>({
    text: 'SELECT date::text, close FROM market_data_cache WHERE symbol = $1 AND date BETWEEN $2 AND $3 ORDER BY date',
    values: [symbol, from, to],
    rowMode: 'array',
  });
  return { dates: rows.map((r) => r[0]), closes: rows.map((r) => r[1]) };
}
