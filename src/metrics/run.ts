import type { Kysely } from 'kysely';
import type pg from 'pg';
import { minusMonths } from '../dates.ts';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { loadModel, volatilityWindowDays, type FactorModel } from '../factors/model.ts';
import { realizedVols } from '../market/volatility.ts';
import { loadCloses, tradingDayOnOrBefore, type ClosesMatrix } from '../market/closes.ts';
import { refreshUniverse } from '../universe.ts';
import { PERIODS, symbolReturns } from './returns.ts';
import { loadMetricsJoins, saveMetricsBlock } from './write.ts';

export interface MetricsRunResult {
  requestedDate: string;
  metricDate: string;
  symbols: number;
  written: number;
  timings: { loadMs: number; computeMs: number; writeMs: number };
}

/** One trading day's computed metrics of some symbols, ready to be written. */
export interface MetricsDay {
  date: string;
  symbols: string[];
  currentPrice: (number | null)[];
  returns: Record<(typeof PERIODS)[number], (number | null)[]>;
  realizedVol: (number | null)[];
}

/** A block's computed days, and where its time went (the pipeline records these per job). */
export interface MetricsBlock {
  days: MetricsDay[];
  timings: { loadMs: number; computeMs: number };
}

/**
 * Returns and realised volatility of the universe symbols listed on each of `days` (all of them, or
 * those of `only`), from one read of the closes reaching a year before the first day. Pure but for
 * that read and the universe lookup.
 */
export async function computeMetricsBlock(
  pool: pg.Pool,
  model: FactorModel,
  days: readonly string[],
  only?: readonly string[],
  /** Closes already loaded for a range reaching a year before the first day. */
  preloaded?: ClosesMatrix,
): Promise<MetricsBlock> {
  let t0 = performance.now();
  const first = days[0]!;
  const last = days.at(-1)!;
  const universe = await pool.query<{ symbol: string; first_seen: string; last_seen: string }>(
    `SELECT symbol, first_seen::text, last_seen::text FROM symbol_universe
      WHERE first_seen <= $2 AND last_seen >= $1 AND ($3::text[] IS NULL OR symbol = ANY($3)) ORDER BY symbol`,
    [first, last, only ?? null],
  );
  const m =
    preloaded && preloaded.dates.includes(last) && preloaded.dates[0]! <= minusMonths(first, 12)
      ? preloaded
      : await loadCloses(
          pool,
          model.settings.calendarSymbol,
          minusMonths(first, 12),
          last,
          universe.rows.map((r) => r.symbol),
        );
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  const rowOf = new Map(m.symbols.map((s, i) => [s, i]));
  const T = m.dates.length;
  const computed = days.map((date) => {
    const listed = universe.rows.filter(
      (u) => u.first_seen <= date && u.last_seen >= date && rowOf.has(u.symbol),
    );
    const keep = listed.map((u) => rowOf.get(u.symbol)!);
    const closes = new Float64Array(keep.length * T);
    keep.forEach((s, i) => closes.set(m.closes.subarray(s * T, (s + 1) * T), i * T));
    const end = m.dates.indexOf(date);
    const r = symbolReturns(m.dates, keep.length, closes, end);
    const symbols = listed.map((u) => u.symbol);
    const vols = realizedVols({ dates: m.dates, symbols, closes }, end, volatilityWindowDays(model));
    return {
      date,
      symbols,
      currentPrice: r.currentPrice,
      returns: r.returns,
      realizedVol: vols.map((v) => v ?? null),
    };
  });
  return { days: computed, timings: { loadMs, computeMs: performance.now() - t0 } };
}

/**
 * `symbol_daily_metrics` of every universe symbol listed on the trading day on or before
 * `requestedDate` (the `metrics run` command): the universe refreshed, one bulk read,
 * the day's rows replaced by one DELETE and one binary COPY (write.ts).
 */
export async function runMetrics(
  db: Kysely<Database>,
  pool: pg.Pool,
  requestedDate: string,
  /** Closes already loaded for a range of dates reaching a year before this one. */
  preloaded?: ClosesMatrix,
): Promise<MetricsRunResult> {
  const model = await loadModel(db);
  const date = await tradingDayOnOrBefore(pool, model.settings.calendarSymbol, requestedDate);
  if (!date) throw new Error(`no trading day on or before ${requestedDate}`);
  let t0 = performance.now();
  await withTransaction(pool, refreshUniverse);
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  const [day] = (await computeMetricsBlock(pool, model, [date], undefined, preloaded)).days;
  const joins = await loadMetricsJoins(pool, model, [date], day!.symbols);
  const computeMs = performance.now() - t0;
  t0 = performance.now();
  const written = await withTransaction(pool, (client) => saveMetricsBlock(client, [day!], joins));
  return {
    requestedDate,
    metricDate: date,
    symbols: day!.symbols.length,
    written,
    timings: { loadMs, computeMs, writeMs: performance.now() - t0 },
  };
}
