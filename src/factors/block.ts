import type pg from 'pg';
import { copyRows } from '../db/copy.ts';
import { loadCloses, type ClosesMatrix } from '../market/closes.ts';
import { addDays } from '../dates.ts';
import { computeBetas, type BetaResult, type BetaSkip, type SpecificResult } from './engine.ts';
import { lookbackDays, proxySymbols, type FactorModel } from './model.ts';
import { returnsFromCloses } from './panel.ts';

/** What one pipeline job computed: the betas of some symbols on some consecutive trading days. */
export interface FactorBlock {
  /** (symbol, date) pairs computed. */
  computed: number;
  /** Per trading day computed, the engine's results, skips and specific volatilities. */
  days: { date: string; results: BetaResult[]; skips: BetaSkip[]; specific: SpecificResult[] }[];
  timings: { loadMs: number; computeMs: number };
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
        AND ($4 OR NOT EXISTS (SELECT 1 FROM symbol_factor_exposures e WHERE e.symbol = u.symbol AND e.calculation_date = d)
                AND NOT EXISTS (SELECT 1 FROM symbol_factor_skips k WHERE k.symbol = u.symbol AND k.calculation_date = d))`,
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
  const out: FactorBlock = { computed: 0, days: [], timings: { loadMs: 0, computeMs: 0 } };
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
 * Writes a block in the caller's transaction. The pairs it computed had no rows (or, with `force`,
 * their rows are removed first), so the rows go in with COPY, the fastest bulk path; a duplicate
 * delivery of the same job conflicts on the primary key and is retried, finding nothing left to do.
 */
export async function saveFactorBlock(
  client: pg.ClientBase,
  block: FactorBlock,
  force: boolean,
): Promise<void> {
  const rows = (pick: (d: FactorBlock['days'][number]) => readonly (BetaResult | BetaSkip)[]) =>
    block.days.flatMap((d) => pick(d).map((r) => ({ date: d.date, r })));
  // The (date, symbol) pairs written. Their betas and skips exist only when forced; a specific vol may
  // outlive its betas (a price revision deletes betas, not specific vols), so it is always replaced.
  const pairs = new Set<string>();
  const dates: string[] = [];
  const syms: string[] = [];
  for (const { date, r } of rows((d) => [...d.results, ...d.skips])) {
    if (pairs.has(`${date}|${r.symbol}`)) continue;
    pairs.add(`${date}|${r.symbol}`);
    dates.push(date);
    syms.push(r.symbol);
  }
  const tables = force
    ? ['symbol_factor_exposures', 'symbol_factor_skips', 'symbol_specific_risk']
    : ['symbol_specific_risk'];
  for (const table of tables)
    await client.query(
      `DELETE FROM ${table} t USING unnest($1::date[], $2::text[]) AS x(d, s)
        WHERE t.calculation_date = x.d AND t.symbol = x.s`,
      [dates, syms],
    );
  const results = block.days.flatMap((d) =>
    d.results.map((r) => [r.symbol, r.factorId, d.date, r.beta, r.rSquared, r.observations, r.qualityFlag]),
  );
  if (results.length > 0)
    await copyRows(
      client,
      'symbol_factor_exposures',
      ['symbol', 'factor_id', 'calculation_date', 'beta', 'r_squared', 'observations', 'quality_flag'],
      results,
    );
  const specific = block.days.flatMap((d) =>
    d.specific.map((r) => [r.symbol, d.date, r.specificVol, r.observations]),
  );
  if (specific.length > 0)
    await copyRows(
      client,
      'symbol_specific_risk',
      ['symbol', 'calculation_date', 'specific_vol', 'observations'],
      specific,
    );
  const skips = block.days.flatMap((d) =>
    d.skips.map((s) => [s.symbol, s.factorId, d.date, s.reason, s.observations]),
  );
  if (skips.length > 0)
    await copyRows(
      client,
      'symbol_factor_skips',
      ['symbol', 'factor_id', 'calculation_date', 'reason', 'observations'],
      skips,
    );
}
