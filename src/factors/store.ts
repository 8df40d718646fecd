import type pg from 'pg';
import { addDays } from '../dates.ts';
import { loadCloses } from '../market/closes.ts';
import type { BetaResult, BetaSkip, SpecificResult } from './engine.ts';
import type { FactorModel } from './model.ts';
import { returnsFromCloses, type ReturnsPanel } from './panel.ts';

/**
 * Loads, in one read, every close needed for windows of `lookbackDays` ending on the trading days
 * `first`..`last`, as a returns panel that starts one trading day before the earliest window (so that
 * its first return exists).
 */
export async function loadPanel(
  pool: pg.Pool,
  model: FactorModel,
  first: string,
  last: string,
  lookbackDays: number,
  /** Restrict to these symbols (the calendar symbol is always loaded); all symbols when omitted. */
  only?: readonly string[],
): Promise<ReturnsPanel> {
  const m = await loadCloses(pool, model.settings.calendarSymbol, addDays(first, -lookbackDays), last, only);
  return returnsFromCloses(m.dates, m.symbols, m.closes);
}

/** Symbols with a close in the window that have neither betas nor recorded skips for `date`. */
export async function symbolsNeedingBetas(
  pool: pg.Pool,
  date: string,
  windowDays: number,
  force: boolean,
): Promise<Set<string>> {
  const { rows } = await pool.query<{ symbol: string }>(
    `SELECT symbol FROM symbol_universe u
      WHERE first_seen <= $1 AND last_seen > $1::date - $2::int
        AND ($3 OR NOT EXISTS (SELECT 1 FROM symbol_factor_exposures e WHERE e.symbol = u.symbol AND e.calculation_date = $1)
                AND NOT EXISTS (SELECT 1 FROM symbol_factor_skips k WHERE k.symbol = u.symbol AND k.calculation_date = $1))`,
    [date, windowDays, force],
  );
  return new Set(rows.map((r) => r.symbol));
}

/**
 * Writes one batch's betas, skips and specific volatilities for `date` as bulk upserts; unchanged
 * rows are not rewritten.
 * With `replace` (a forced recomputation) it also removes rows of these symbols that the new
 * computation no longer produces; symbols computed for the first time have none to remove.
 */
export async function saveBetas(
  client: pg.ClientBase,
  date: string,
  symbols: readonly string[],
  results: readonly BetaResult[],
  skips: readonly BetaSkip[],
  replace: boolean,
  specific: readonly SpecificResult[] = [],
): Promise<void> {
  if (results.length > 0)
    await client.query(
      `INSERT INTO symbol_factor_exposures AS e (symbol, factor_id, calculation_date, beta, r_squared, observations, quality_flag)
     SELECT s, f, $1, b, r, o, q FROM unnest($2::text[], $3::int2[], $4::float8[], $5::float8[], $6::int[], $7::text[]) AS x(s, f, b, r, o, q)
     ON CONFLICT (symbol, factor_id, calculation_date) DO UPDATE
       SET beta = EXCLUDED.beta, r_squared = EXCLUDED.r_squared, observations = EXCLUDED.observations,
           quality_flag = EXCLUDED.quality_flag, computed_at = now()
       WHERE (e.beta, e.r_squared, e.observations, e.quality_flag)
             IS DISTINCT FROM (EXCLUDED.beta, EXCLUDED.r_squared, EXCLUDED.observations, EXCLUDED.quality_flag)`,
      [
        date,
        results.map((r) => r.symbol),
        results.map((r) => r.factorId),
        results.map((r) => r.beta),
        results.map((r) => r.rSquared),
        results.map((r) => r.observations),
        results.map((r) => r.qualityFlag),
      ],
    );
  if (skips.length > 0)
    await client.query(
      `INSERT INTO symbol_factor_skips AS k (symbol, factor_id, calculation_date, reason, observations)
     SELECT s, f, $1, r, o FROM unnest($2::text[], $3::int2[], $4::text[], $5::int[]) AS x(s, f, r, o)
     ON CONFLICT (symbol, factor_id, calculation_date) DO UPDATE
       SET reason = EXCLUDED.reason, observations = EXCLUDED.observations, computed_at = now()
       WHERE (k.reason, k.observations) IS DISTINCT FROM (EXCLUDED.reason, EXCLUDED.observations)`,
      [
        date,
        skips.map((s) => s.symbol),
        skips.map((s) => s.factorId),
        skips.map((s) => s.reason),
        skips.map((s) => s.observations),
      ],
    );
  if (specific.length > 0)
    await client.query(
      `INSERT INTO symbol_specific_risk AS r (symbol, calculation_date, specific_vol, observations)
     SELECT s, $1, v, o FROM unnest($2::text[], $3::float8[], $4::int[]) AS x(s, v, o)
     ON CONFLICT (calculation_date, symbol) DO UPDATE
       SET specific_vol = EXCLUDED.specific_vol, observations = EXCLUDED.observations, computed_at = now()
       WHERE (r.specific_vol, r.observations) IS DISTINCT FROM (EXCLUDED.specific_vol, EXCLUDED.observations)`,
      [
        date,
        specific.map((r) => r.symbol),
        specific.map((r) => r.specificVol),
        specific.map((r) => r.observations),
      ],
    );
  if (!replace) return;
  await client.query(
    'DELETE FROM symbol_specific_risk WHERE calculation_date = $1 AND symbol = ANY($2) AND NOT (symbol = ANY($3))',
    [date, symbols, specific.map((r) => r.symbol)],
  );
  for (const [table, keep] of [
    ['symbol_factor_exposures', results],
    ['symbol_factor_skips', skips],
  ] as const) {
    await client.query(
      `DELETE FROM ${table} t WHERE t.calculation_date = $1 AND t.symbol = ANY($2)
         AND (t.symbol, t.factor_id) NOT IN (SELECT * FROM unnest($3::text[], $4::int2[]))`,
      [date, symbols, keep.map((r) => r.symbol), keep.map((r) => r.factorId)],
    );
  }
}
