import { sql, type Kysely } from 'kysely';
import type { Database, QualityFlag } from '../../db/schema.ts';

/**
 * A symbol's betas for the symbol route, read from the wide rows (`symbol_day_factors`, migration
 * 0010) through their (symbol, date) index: one row per date holds every factor, so a 90-day history
 * is ~63 rows, not ~700. The old `symbol_factor_exposures` view stays for compatibility only.
 */

/** The newest date on or before `onOrBefore` (any date when omitted) with a beta for `symbol`. */
export async function latestBetasDate(
  db: Kysely<Database>,
  symbol: string,
  onOrBefore: string | undefined,
): Promise<string | null> {
  const { rows } = await sql<{ d: string | null }>`
    SELECT max(calculation_date)::text AS d FROM symbol_day_factors
     WHERE symbol = ${symbol} AND 0 < ANY (outcome)
       ${onOrBefore === undefined ? sql`` : sql`AND calculation_date <= ${onOrBefore}`}`.execute(db);
  return rows[0]?.d ?? null;
}

/** Every beta of `symbol` on `date`, in the factors' display order. */
export async function betasOn(db: Kysely<Database>, symbol: string, date: string) {
  const { rows } = await sql<{
    factor: string;
    beta: number;
    r_squared: number | null;
    observations: number;
    quality_flag: QualityFlag;
  }>`
    SELECT f.name AS factor, w.beta[f.id] AS beta, w.r_squared[f.id] AS r_squared,
           w.observations[f.id] AS observations, fu_outcome_name(w.outcome[f.id]) AS quality_flag
      FROM symbol_day_factors w JOIN factor_definitions f ON w.outcome[f.id] > 0
     WHERE w.symbol = ${symbol} AND w.calculation_date = ${date}
     ORDER BY f.display_order`.execute(db);
  return rows;
}

/** The betas and R² of `symbol` from `from` to `to`, by date then display order. */
export async function betaHistory(db: Kysely<Database>, symbol: string, from: string, to: string) {
  const { rows } = await sql<{ date: string; factor: string; beta: number; r_squared: number | null }>`
    SELECT w.calculation_date AS date, f.name AS factor, w.beta[f.id] AS beta, w.r_squared[f.id] AS r_squared
      FROM symbol_day_factors w JOIN factor_definitions f ON w.outcome[f.id] > 0
     WHERE w.symbol = ${symbol} AND w.calculation_date BETWEEN ${from} AND ${to}
     ORDER BY w.calculation_date, f.display_order`.execute(db);
  return rows;
}
