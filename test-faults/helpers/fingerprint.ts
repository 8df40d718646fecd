/**
 * Every table a pipeline date writes, as one fingerprint per table (timestamps and generated ids left
 * out), so two runs can be compared row for row: the same fingerprint means the same stored rows.
 */
export const TABLES: Record<string, string> = {
  symbol_factor_exposures: 'symbol, factor_id, calculation_date, beta, r_squared, observations, quality_flag',
  symbol_factor_skips: 'symbol, factor_id, calculation_date, reason, observations',
  symbol_daily_metrics:
    'symbol, metric_date, current_price, return_1d, return_ytd, factor_market_beta, data_quality_score',
  portfolio_snapshots: 'portfolio_id, snapshot_date, equity, daily_pnl, cumulative_pnl, net_exposure',
  factor_exposures: 'portfolio_id, factor_id, calculation_date, source, exposure_value, exposure_dollar',
  position_daily_values: 'position_id, value_date, market_value, exposure, delta, pnl, pnl_method',
  stress_test_results: 'portfolio_id, scenario, calculation_date, pnl',
  position_factor_exposures: 'position_id, factor_id, calculation_date, exposure_value, delta',
  symbol_specific_risk: 'symbol, calculation_date, specific_vol, observations',
  risk_models: 'calculation_date, half_life, covariance, proxy_covariance',
  portfolio_risk: 'portfolio_id, calculation_date, total_risk, factor_risk, specific_risk, var, hedges',
  portfolio_attribution: 'portfolio_id, calculation_date, daily_pnl',
};

/** Anything with pg's `query` (a pool or a client). */
interface Queryable {
  query(sql: string): Promise<{ rows: { n: number; h: string | null }[] }>;
}

export async function fingerprint(q: Queryable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, cols] of Object.entries(TABLES)) {
    const { rows } = await q.query(
      `SELECT count(*)::int AS n, md5(string_agg(ROW(${cols})::text, '|' ORDER BY ROW(${cols})::text)) AS h FROM ${table}`,
    );
    out[table] = `${rows[0]!.n}:${rows[0]!.h}`;
  }
  return out;
}
