import type pg from 'pg';
import { copyBinary, type BinaryColumn } from '../db/copy.ts';
import { deleteDayKeys } from '../db/day-keys.ts';
import type { BenchmarkRef, ActiveNumbers } from './benchmark.ts';
import type { Breach, Limit } from './limits.ts';

/**
 * Reads and writes of the portfolio stage's benchmark-relative numbers and limits (migration 0022):
 * one bulk query each, in the caller's transaction for the writes.
 */

/** The ids with, transitively, the portfolios they are benchmarked to (these must be computed too). */
export async function withBenchmarkPortfolios(pool: pg.Pool, ids: readonly number[]): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `WITH RECURSIVE b(id) AS (
       SELECT unnest($1::int[])
       UNION
       SELECT p.benchmark_portfolio_id FROM portfolios p JOIN b ON p.id = b.id WHERE p.benchmark_portfolio_id IS NOT NULL
     ) SELECT id FROM b ORDER BY id`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** Each portfolio's benchmark; the default symbol where none is set. */
export async function loadBenchmarks(
  pool: pg.Pool,
  ids: readonly number[],
  defaultSymbol: string,
): Promise<Map<number, BenchmarkRef>> {
  const { rows } = await pool.query<{ id: number; s: string | null; p: number | null }>(
    'SELECT id, benchmark_symbol AS s, benchmark_portfolio_id AS p FROM portfolios WHERE id = ANY($1)',
    [ids],
  );
  return new Map(
    rows.map((r) => [r.id, r.p !== null ? { portfolio_id: r.p } : { symbol: r.s ?? defaultSymbol }]),
  );
}

/** r_D = C_D / C_prev − 1 of each symbol, prev the calendar's trading day before D (METHODOLOGY.md 1). */
export async function loadSymbolReturns(
  pool: pg.Pool,
  calendarSymbol: string,
  date: string,
  symbols: readonly string[],
): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ symbol: string; r: number }>(
    `WITH prev AS (SELECT max(date) AS d FROM market_data_cache WHERE symbol = $1 AND date < $2)
     SELECT c.symbol, c.close / p.close - 1 AS r
       FROM market_data_cache c
       JOIN market_data_cache p ON p.symbol = c.symbol AND p.date = (SELECT d FROM prev)
      WHERE c.date = $2 AND c.symbol = ANY($3)`,
    [calendarSymbol, date, symbols],
  );
  return new Map(rows.map((r) => [r.symbol, r.r]));
}

export interface ActiveRow extends ActiveNumbers {
  portfolioId: number;
  benchmark: BenchmarkRef;
}

const ACTIVE_COLUMNS: readonly BinaryColumn[] = [
  { name: 'portfolio_id', type: 'int4' },
  { name: 'calculation_date', type: 'date' },
  { name: 'benchmark_symbol', type: 'text' },
  { name: 'benchmark_portfolio_id', type: 'int4' },
  { name: 'active_exposures', type: 'jsonb' },
  { name: 'tracking_error', type: 'float8' },
  { name: 'active_return', type: 'float8' },
  { name: 'contributions', type: 'jsonb' },
];

/**
 * Replaces the rows' active numbers of their dates on the caller's transaction: a delete of those
 * (date, portfolio) pairs, then binary COPY (each row carries a JSON document of ~50 positions'
 * contributions); one statement each whatever the number of dates.
 */
export async function saveActiveDays(
  client: pg.ClientBase,
  dated: readonly { date: string; rows: readonly ActiveRow[] }[],
): Promise<void> {
  const pairs = await deleteDayKeys(
    client,
    {
      table: 'portfolio_active_days',
      dateColumn: 'calculation_date',
      keyColumn: 'portfolio_id',
      keyType: 'int4',
    },
    dated.map((e) => ({ date: e.date, keys: e.rows.map((r) => r.portfolioId) })),
  );
  if (pairs === 0) return;
  await copyBinary(
    client,
    'portfolio_active_days',
    ACTIVE_COLUMNS,
    dated.flatMap(({ date, rows }) =>
      rows.map((r) => [
        r.portfolioId,
        date,
        'symbol' in r.benchmark ? r.benchmark.symbol : null,
        'portfolio_id' in r.benchmark ? r.benchmark.portfolio_id : null,
        JSON.stringify(r.activeExposures),
        r.trackingError,
        r.activeReturn,
        JSON.stringify(r.contributions),
      ]),
    ),
  );
}

const LIMIT_COLUMNS = 'id, portfolio_id, name, metric, factor, method, confidence, lower, upper';

/** Every limit of the given portfolios (the stage checks them all). */
export async function loadLimitsOf(pool: pg.Pool, ids: readonly number[]): Promise<Map<number, Limit[]>> {
  const { rows } = await pool.query<Limit>(
    `SELECT ${LIMIT_COLUMNS} FROM portfolio_limits WHERE portfolio_id = ANY($1) ORDER BY portfolio_id, id`,
    [ids],
  );
  const out = new Map<number, Limit[]>();
  for (const r of rows) {
    const list = out.get(r.portfolio_id) ?? [];
    list.push(r);
    out.set(r.portfolio_id, list);
  }
  return out;
}

/**
 * The breaches of each date for its portfolios replace those stored for that date (a re-run of D
 * recomputes them; other dates are untouched): once per (limit, date), with the value and the
 * bounds of the run. One delete and one insert whatever the number of dates.
 */
export async function saveBreaches(
  client: pg.ClientBase,
  dated: readonly { date: string; portfolioIds: readonly number[]; breaches: readonly Breach[] }[],
): Promise<void> {
  const pairs = await deleteDayKeys(
    client,
    {
      table: 'portfolio_limit_breaches',
      dateColumn: 'breach_date',
      keyColumn: 'portfolio_id',
      keyType: 'int4',
    },
    dated.map((e) => ({ date: e.date, keys: e.portfolioIds })),
  );
  if (pairs === 0) return;
  const rows = dated.flatMap(({ date, breaches }) => breaches.map((b) => ({ date, b })));
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO portfolio_limit_breaches (limit_id, breach_date, portfolio_id, name, value, lower, upper)
     SELECT l, d, p, n, v, lo, up
       FROM unnest($1::date[], $2::int[], $3::int[], $4::text[], $5::float8[], $6::float8[], $7::float8[])
         AS x(d, l, p, n, v, lo, up)`,
    [
      rows.map((r) => r.date),
      rows.map((r) => r.b.limit_id),
      rows.map((r) => r.b.portfolio_id),
      rows.map((r) => r.b.name),
      rows.map((r) => r.b.value),
      rows.map((r) => r.b.lower),
      rows.map((r) => r.b.upper),
    ],
  );
}
