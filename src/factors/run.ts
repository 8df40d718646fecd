import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.ts';
import { runLimited } from '../run-limited.ts';
import { withTransaction } from '../db/transaction.ts';
import { computeBetas, type BetaResult, type BetaSkip, type SkipReason } from './engine.ts';
import { loadModel, lookbackDays, modelWidth, type ModelSettings } from './model.ts';
import { tradingDayOnOrBefore } from '../market/closes.ts';
import type { ReturnsPanel } from './panel.ts';
import { loadPanel, saveBetas, symbolsNeedingBetas } from './store.ts';

export interface FactorRunOptions {
  /** Requested date; the betas are those of the last trading day on or before it. */
  date: string;
  /** Recompute symbols that already have betas (or recorded skips) for the date. */
  force?: boolean;
  /** Symbols per write batch (each its own transaction). */
  batchSize?: number;
  /** Write batches in flight at once, each on its own pooled connection. */
  maxConcurrentBatches?: number;
  settings?: Partial<ModelSettings>;
  /**
   * A panel already loaded for a range of dates (a backfill loads once for all of them); it must
   * reach back a full window before the date. Loaded here when absent or not covering the date.
   */
  panel?: ReturnsPanel;
}

export interface BatchFailure {
  symbols: string[];
  error: string;
}

export interface FactorRunResult {
  requestedDate: string;
  calculationDate: string;
  symbols: number;
  alreadyCached: number;
  betasWritten: number;
  skipped: Record<SkipReason, number>;
  batches: number;
  failures: BatchFailure[];
  timings: { loadMs: number; computeMs: number; writeMs: number };
}

function groupBySymbol<T extends { symbol: string }>(rows: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const list = m.get(r.symbol);
    if (list) list.push(r);
    else m.set(r.symbol, [r]);
  }
  return m;
}

/**
 * The universe factor phase for one date: find the symbols still needing betas, load every close the
 * windows need in one read, compute all symbols together, and write them in concurrent batches, each
 * its own transaction: a failing batch rolls back alone and is reported with its symbols.
 */
export async function runFactors(
  db: Kysely<Database>,
  pool: pg.Pool,
  options: FactorRunOptions,
): Promise<FactorRunResult> {
  const { batchSize = 15, maxConcurrentBatches = 5, force = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const model = await loadModel(db, options.settings);
  const date = await tradingDayOnOrBefore(pool, model.settings.calendarSymbol, options.date);
  if (!date) {
    throw new Error(
      `no trading day on or before ${options.date}: the calendar symbol ${model.settings.calendarSymbol} has no close by then`,
    );
  }
  const lookback = lookbackDays(model);
  const width = modelWidth(model);
  const result: FactorRunResult = {
    requestedDate: options.date,
    calculationDate: date,
    symbols: 0,
    alreadyCached: 0,
    betasWritten: 0,
    skipped: { insufficient_observations: 0, missing_proxy: 0, degenerate_factor: 0, degenerate_series: 0 },
    batches: 0,
    failures: [],
    timings: { loadMs: 0, computeMs: 0, writeMs: 0 },
  };

  let t0 = performance.now();
  const needed = await symbolsNeedingBetas(pool, date, lookback, force);
  if (needed.size === 0) {
    result.alreadyCached = (await symbolsNeedingBetas(pool, date, lookback, true)).size;
    return result;
  }
  const reuse = options.panel && options.panel.dates.indexOf(date) >= 0 ? options.panel : undefined;
  const panel = reuse ?? (await loadPanel(pool, model, date, date, lookback));
  result.timings.loadMs = performance.now() - t0;

  t0 = performance.now();
  const end = panel.dates.indexOf(date);
  const targets = panel.symbols.flatMap((s, i) => (needed.has(s) ? [i] : []));
  const out = computeBetas(panel, model, end, targets);
  result.timings.computeMs = performance.now() - t0;

  t0 = performance.now();
  const resultsBySymbol = groupBySymbol(out.results);
  const skipsBySymbol = groupBySymbol(out.skips);
  const specificBySymbol = groupBySymbol(out.specific);
  const symbols = targets.map((i) => panel.symbols[i]!);
  const batches: string[][] = [];
  for (let i = 0; i < symbols.length; i += batchSize) batches.push(symbols.slice(i, i + batchSize));
  const save = async (batch: string[]): Promise<void> => {
    const results: BetaResult[] = batch.flatMap((s) => resultsBySymbol.get(s) ?? []);
    const skips: BetaSkip[] = batch.flatMap((s) => skipsBySymbol.get(s) ?? []);
    const specific = batch.flatMap((s) => specificBySymbol.get(s) ?? []);
    await withTransaction(pool, (client) => saveBetas(client, date, width, batch, results, skips, specific));
    result.betasWritten += results.length;
    for (const s of skips) result.skipped[s.reason]++;
  };
  await runLimited(batches, maxConcurrentBatches, async (batch) => {
    try {
      await save(batch);
    } catch (e) {
      if (batch.length === 1) {
        result.failures.push({ symbols: batch, error: e instanceof Error ? e.message : String(e) });
        return;
      }
      // One symbol's bad row must not cost its batch mates their betas: write them one by one, so
      // only the symbols that fail alone are reported.
      for (const symbol of batch) {
        try {
          await save([symbol]);
        } catch (e1) {
          result.failures.push({ symbols: [symbol], error: e1 instanceof Error ? e1.message : String(e1) });
        }
      }
    }
  });
  result.timings.writeMs = performance.now() - t0;
  result.symbols = symbols.length;
  result.batches = batches.length;
  return result;
}
