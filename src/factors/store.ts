import type pg from 'pg';
import { addDays } from '../dates.ts';
import { loadCloses } from '../market/closes.ts';
import type { BetaResult, BetaSkip, SpecificResult } from './engine.ts';
import type { FactorModel } from './model.ts';
import { returnsFromCloses, type ReturnsPanel } from './panel.ts';
import { saveFactorDays } from './wide-rows.ts';

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
        AND ($3 OR NOT EXISTS (SELECT 1 FROM symbol_day_factors w
                                WHERE w.calculation_date = $1 AND w.symbol = u.symbol AND w.outcome IS NOT NULL))`,
    [date, windowDays, force],
  );
  return new Set(rows.map((r) => r.symbol));
}

/**
 * Writes one batch's betas, skips and specific volatilities for `date` in the caller's transaction:
 * the batch's (date, symbol) rows are replaced as a whole (one delete on the date-first key, one
 * binary COPY), so a forced recomputation leaves no row the new computation did not produce.
 */
export async function saveBetas(
  client: pg.ClientBase,
  date: string,
  width: number,
  symbols: readonly string[],
  results: readonly BetaResult[],
  skips: readonly BetaSkip[],
  specific: readonly SpecificResult[] = [],
): Promise<void> {
  await saveFactorDays(client, [{ date, results, skips, specific }], width, symbols);
}
