import type pg from 'pg';
import { loadCloses, type ClosesMatrix } from '../market/closes.ts';
import { addDays } from '../dates.ts';
import { computeBetas, type BetaResult, type BetaSkip, type SpecificResult } from './engine.ts';
import { lookbackDays, modelWidth, proxySymbols, type FactorModel } from './model.ts';
import { returnsFromCloses } from './panel.ts';
import { saveFactorDays } from './wide-rows.ts';

/** What one pipeline job computed: the betas of some symbols on some consecutive trading days. */
export interface FactorBlock {
  /** (symbol, date) pairs computed. */
  computed: number;
  /** Per trading day computed, the engine's results, skips and specific volatilities. */
  days: { date: string; results: BetaResult[]; skips: BetaSkip[]; specific: SpecificResult[] }[];
  timings: { loadMs: number; computeMs: number };
  /** The model's largest factor id: the length of the stored per-factor arrays. */
  width: number;
}

/**
 * The (date, symbol) pairs of `symbols` listed in the window of each of `days` that have neither betas
 * nor a recorded skip (all of them with `force`), in one query for the whole block.
 */
export async function pairsNeedingBetas(
  pool: pg.Pool,
  days: readonly string[],
  symbols: readonly string[],
  windowDays: number,
  force: boolean,
): Promise<Map<string, Set<string>>> {
  const { rows } = await pool.query<{ d: string; symbol: string }>(
    `SELECT d::text AS d, u.symbol
       FROM unnest($1::date[]) AS d CROSS JOIN symbol_universe u
      WHERE u.symbol = ANY($2) AND u.first_seen <= d AND u.last_seen > d - $3::int
        AND ($4 OR NOT EXISTS (SELECT 1 FROM symbol_day_factors w
                                WHERE w.calculation_date = d AND w.symbol = u.symbol AND w.outcome IS NOT NULL))`,
    [days, symbols, windowDays, force],
  );
  const out = new Map<string, Set<string>>(days.map((d) => [d, new Set<string>()]));
  for (const r of rows) out.get(r.d)!.add(r.symbol);
  return out;
}

/**
 * Betas of a shard of symbols on a block of consecutive trading days. The closes of the whole block
 * and its longest window are read once; each day is then one universe-wide engine call.
 * Pure but for that one read; `saveFactorBlock` writes the outcome.
 */
export async function computeFactorBlock(
  pool: pg.Pool,
  model: FactorModel,
  days: readonly string[],
  symbols: readonly string[],
  force: boolean,
  /** Closes already loaded (covering the block and its windows), e.g. by a caller with many blocks. */
  preloaded?: ClosesMatrix,
): Promise<FactorBlock> {
  const out: FactorBlock = {
    computed: 0,
    days: [],
    timings: { loadMs: 0, computeMs: 0 },
    width: modelWidth(model),
  };
  let t0 = performance.now();
  const lookback = lookbackDays(model);
  const needed = await pairsNeedingBetas(pool, days, symbols, lookback, force);
  const wanted = [...new Set([...needed.values()].flatMap((s) => [...s]))];
  if (wanted.length === 0) return out;
  const m =
    preloaded ??
    (await loadCloses(pool, model.settings.calendarSymbol, addDays(days[0]!, -lookback), days.at(-1)!, [
      ...new Set([...wanted, ...proxySymbols(model)]),
    ]));
  const panel = returnsFromCloses(m.dates, m.symbols, m.closes);
  const index = new Map(panel.symbols.map((s, i) => [s, i]));
  out.timings.loadMs = performance.now() - t0;

  t0 = performance.now();
  for (const date of days) {
    const end = panel.dates.indexOf(date);
    const targets = [...needed.get(date)!].flatMap((s) => {
      const i = index.get(s);
      return i === undefined ? [] : [i];
    });
    if (end < 0 || targets.length === 0) continue;
    const r = computeBetas(panel, model, end, targets);
    out.days.push({ date, results: r.results, skips: r.skips, specific: r.specific });
    out.computed += targets.length;
  }
  out.timings.computeMs = performance.now() - t0;
  return out;
}

/**
 * Writes a block in the caller's transaction: the wide rows of the (date, symbol) pairs it computed
 * replace whatever those pairs had (nothing, unless forced, or a specific vol left by an older
 * layout's partial delete), with one delete on the date-first key and one binary COPY. A duplicate
 * delivery of the same job finds nothing left to do (its pairs are no longer needed).
 */
export async function saveFactorBlock(client: pg.ClientBase, block: FactorBlock): Promise<void> {
  await saveFactorDays(client, block.days, block.width);
}
