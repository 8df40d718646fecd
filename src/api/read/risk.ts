import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** The queries of the risk routes (METHODOLOGY.md 10–13): no SQL in the route handlers. */

/** True when portfolio `id` exists and belongs to `owner`. */
export async function ownsPortfolio(db: Kysely<Database>, id: number, owner: number): Promise<boolean> {
  const p = await db
    .selectFrom('portfolios')
    .select('id')
    .where('id', '=', id)
    .where('owner_id', '=', owner)
    .executeTakeFirst();
  return p !== undefined;
}

/** The stored risk model of the newest date on or before `date` (any date when omitted). */
export async function riskModelOn(db: Kysely<Database>, date: string | undefined, halfLife: number) {
  return db
    .selectFrom('risk_models')
    .select([
      sql<string>`calculation_date::text`.as('date'),
      'half_life',
      'window_days',
      'factors',
      'covariance',
      'observations',
      'proxies',
      'proxy_covariance',
      'proxy_observations',
    ])
    .where('half_life', '=', halfLife)
    .$if(date !== undefined, (q) => q.where('calculation_date', '<=', date!))
    .orderBy('calculation_date', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** A portfolio's stored risk row of `date`, or of its newest date when omitted. */
export async function portfolioRiskOn(db: Kysely<Database>, id: number, date: string | undefined) {
  return db
    .selectFrom('portfolio_risk')
    .select([
      sql<string>`calculation_date::text`.as('date'),
      sql<string>`risk_model_date::text`.as('risk_model_date'),
      'half_life',
      'equity',
      'total_risk',
      'factor_risk',
      'specific_risk',
      'tracking_error',
      'report',
      'var',
      'hedges',
    ])
    .where('portfolio_id', '=', id)
    .$if(date !== undefined, (q) => q.where('calculation_date', '=', date!))
    .orderBy('calculation_date', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** A portfolio's stress results of `date` (newest when omitted), in the scenario file's order of storage. */
export async function stressResultsOn(db: Kysely<Database>, id: number, date: string | undefined) {
  const d =
    date ??
    (
      await db
        .selectFrom('stress_test_results')
        .select(sql<string | null>`max(calculation_date)::text`.as('d'))
        .where('portfolio_id', '=', id)
        .executeTakeFirst()
    )?.d ??
    null;
  if (!d) return { date: null, rows: [] };
  const rows = await db
    .selectFrom('stress_test_results')
    .select(['scenario', 'kind', 'pnl', 'pnl_pct', 'status', 'reason', 'shocks'])
    .where('portfolio_id', '=', id)
    .where('calculation_date', '=', d)
    .orderBy('status')
    .orderBy('pnl')
    .execute();
  return { date: d, rows };
}

/** A portfolio's attributed days in [from, to], oldest first. */
export async function attributionBetween(db: Kysely<Database>, id: number, from: string, to: string) {
  return db
    .selectFrom('portfolio_attribution')
    .select([sql<string>`calculation_date::text`.as('date'), 'daily_pnl', 'factor_pnl', 'specific_pnl'])
    .where('portfolio_id', '=', id)
    .where('calculation_date', '>=', from)
    .where('calculation_date', '<=', to)
    .orderBy('calculation_date')
    .execute();
}

/** The ridge factors' names in display order (the risk model's factors). */
export async function ridgeFactorNames(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('factor_definitions')
    .select('name')
    .where('method', '=', 'ridge_regression')
    .where('is_active', '=', true)
    .orderBy('display_order')
    .execute();
  return rows.map((r) => r.name);
}
