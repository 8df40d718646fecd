import type pg from 'pg';
import { toDayNumber } from '../dates.ts';
import { withTransaction } from '../db/transaction.ts';

/** Closes of many symbols on one trading calendar: `closes[s * dates.length + t]`, NaN where none. */
export interface ClosesMatrix {
  dates: string[];
  symbols: string[];
  closes: Float64Array;
}

/** The last trading day on or before `date`, or undefined when the calendar has none. */
export async function tradingDayOnOrBefore(
  pool: pg.Pool,
  calendarSymbol: string,
  date: string,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ d: string | null }>(
    'SELECT max(date)::text AS d FROM market_data_cache WHERE symbol = $1 AND date <= $2',
    [calendarSymbol, date],
  );
  return rows[0]?.d ?? undefined;
}

/** The trading days of [from, to], in order. */
export async function tradingDays(
  pool: pg.Pool,
  calendarSymbol: string,
  from: string,
  to: string,
): Promise<string[]> {
  const { rows } = await pool.query<{ d: string }>(
    'SELECT date::text AS d FROM market_data_cache WHERE symbol = $1 AND date BETWEEN $2 AND $3 ORDER BY date',
    [calendarSymbol, from, to],
  );
  return rows.map((r) => r.d);
}

/** The calendar's first trading day, or undefined when it has none. */
export async function firstTradingDay(pool: pg.Pool, calendarSymbol: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ d: string | null }>(
    'SELECT min(date)::text AS d FROM market_data_cache WHERE symbol = $1',
    [calendarSymbol],
  );
  return rows[0]?.d ?? undefined;
}

/**
 * Loads the closes of the trading days from the last one on or before `from` (or the calendar's first)
 * to `to`, for all symbols or those in `only`, in one query. Trading days are the dates on which
 * `calendarSymbol` has a close; closes on other dates are ignored.
 *
 * Closes travel as binary arrays (int4send/float8send concatenated per symbol): a million values
 * arrive as a few thousand rows of bytes instead of a million parsed rows.
 */
export async function loadCloses(
  pool: pg.Pool,
  calendarSymbol: string,
  from: string,
  to: string,
  only?: readonly string[],
): Promise<ClosesMatrix> {
  const start =
    (await tradingDayOnOrBefore(pool, calendarSymbol, from)) ?? (await firstTradingDay(pool, calendarSymbol));
  if (!start) return { dates: [], symbols: [], closes: new Float64Array(0) };
  const dates = await tradingDays(pool, calendarSymbol, start, to);
  const T = dates.length;
  const startDay = toDayNumber(start);
  const slot = new Int32Array(Math.max(0, toDayNumber(to) - startDay + 1)).fill(-1);
  dates.forEach((d, t) => (slot[toDayNumber(d) - startDay] = t));

  // The per-symbol aggregation spills to disk at the default 4MB work_mem (1.6 s against 1.0 s
  // for 10,000 symbols × 1 year), so give this one query more.
  const rows = await withTransaction(pool, async (client) => {
    await client.query("SET LOCAL work_mem = '64MB'");
    const result = await client.query<{ symbol: string; days: Buffer; closes: Buffer }>(
      `SELECT symbol, string_agg(int4send(date - $1::date), ''::bytea) AS days,
            string_agg(float8send(close), ''::bytea) AS closes
       FROM market_data_cache
      WHERE date BETWEEN $1 AND $2 AND ($3::text[] IS NULL OR symbol = ANY($3))
      GROUP BY symbol ORDER BY symbol`,
      [start, to, only ? [calendarSymbol, ...only] : null],
    );
    return result.rows;
  });
  const symbols = rows.map((r) => r.symbol);
  const closes = new Float64Array(symbols.length * T).fill(NaN);
  rows.forEach((r, s) => {
    const n = r.closes.length / 8;
    for (let i = 0; i < n; i++) {
      const t = slot[r.days.readInt32BE(i * 4)]!;
      if (t >= 0) closes[s * T + t] = r.closes.readDoubleBE(i * 8);
    }
  });
  return { dates, symbols, closes };
}
