/**
 * The columns of `symbol_daily_metrics` that copy the 11 factor betas (each factor names its column
 * in `factor_definitions.metrics_column`). Being a fixed list, it is also what the API may sort by
 * and what the metrics pivot may write: never a name taken from input.
 */
export const FACTOR_COLUMNS = [
  'factor_value',
  'factor_growth',
  'factor_momentum',
  'factor_quality',
  'factor_size',
  'factor_low_vol',
  'factor_growth_value_spread',
  'factor_momentum_spread',
  'factor_size_spread',
  'factor_quality_spread',
  'factor_market_beta',
] as const;
