import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** Dates travel as ISO strings (`YYYY-MM-DD`) end to end: no time zone can shift a trading day. */
export type IsoDate = string;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type PositionType = 'LONG' | 'SHORT' | 'LC' | 'LP' | 'SC' | 'SP';
export type AssetType = 'equity' | 'etf' | 'option_underlying' | 'index';
export type FactorMethod = 'ridge_regression' | 'spread_regression' | 'ols_market';
export type QualityFlag = 'full_history' | 'limited_history' | 'capped';
export type BatchStatus = 'running' | 'completed' | 'failed' | 'skipped';

export interface SymbolUniverseTable {
  symbol: string;
  asset_type: Generated<AssetType>;
  sector: string | null;
  first_seen: IsoDate | null;
  last_seen: IsoDate | null;
  is_active: Generated<boolean>;
  is_option_underlying: Generated<boolean>;
  updated_at: Timestamp;
}

export interface MarketDataCacheTable {
  symbol: string;
  date: IsoDate;
  close: number;
  open: number | null;
  high: number | null;
  low: number | null;
  volume: number | null;
  /** The provider's raw close when `close` is its split- and dividend-adjusted close. */
  unadjusted_close: number | null;
  source: Generated<string>;
  updated_at: Timestamp;
}

export interface CompanyProfilesTable {
  symbol: string;
  company_name: string | null;
  sector: string | null;
  industry: string | null;
  market_cap: number | null;
  market_cap_date: IsoDate | null;
  price_on_market_cap_date: number | null;
  enterprise_value: number | null;
  pe_ratio: number | null;
  ps_ratio: number | null;
  pb_ratio: number | null;
  beta: number | null;
  dividend_yield: number | null;
  extra: JSONColumnType<Record<string, string>>;
  updated_at: Timestamp;
}

export interface FactorDefinitionsTable {
  id: number;
  name: string;
  category: 'style' | 'spread' | 'market';
  method: FactorMethod;
  long_proxy: string;
  short_proxy: string | null;
  window_days: number;
  min_observations: number;
  display_order: number;
  metric_column: string;
  description: string;
  is_active: Generated<boolean>;
}

/**
 * One row per (date, symbol) of the factor stage (migration 0010): per-factor arrays subscripted by
 * factor id, `outcome` codes (1..3 a quality flag, -1..-4 a skip reason; see factors/wide-rows.ts) and
 * the specific volatility. Partitioned by year; the three tables below are views of it.
 */
export interface SymbolDayFactorsTable {
  calculation_date: IsoDate;
  symbol: string;
  beta: (number | null)[] | null;
  r_squared: (number | null)[] | null;
  observations: (number | null)[] | null;
  outcome: (number | null)[] | null;
  specific_vol: number | null;
  specific_observations: number | null;
  computed_at: Timestamp;
}

/** A view of `symbol_day_factors` since migration 0010 (writable through INSTEAD OF triggers). */
export interface SymbolFactorExposuresTable {
  symbol: string;
  factor_id: number;
  calculation_date: IsoDate;
  beta: number;
  r_squared: number | null;
  observations: number;
  quality_flag: QualityFlag;
  computed_at: Timestamp;
}

/** A view of `symbol_day_factors` since migration 0010 (writable through INSTEAD OF triggers). */
export interface SymbolFactorSkipsTable {
  symbol: string;
  factor_id: number;
  calculation_date: IsoDate;
  reason: 'insufficient_observations' | 'missing_proxy' | 'degenerate_factor' | 'degenerate_series';
  observations: number;
  computed_at: Timestamp;
}

export interface SymbolDailyMetricsTable {
  symbol: string;
  metric_date: IsoDate;
  current_price: number | null;
  return_1d: number | null;
  return_mtd: number | null;
  return_ytd: number | null;
  return_1m: number | null;
  return_3m: number | null;
  return_1y: number | null;
  market_cap: number | null;
  enterprise_value: number | null;
  pe_ratio: number | null;
  ps_ratio: number | null;
  pb_ratio: number | null;
  company_name: string | null;
  sector: string | null;
  industry: string | null;
  factor_value: number | null;
  factor_growth: number | null;
  factor_momentum: number | null;
  factor_quality: number | null;
  factor_size: number | null;
  factor_low_vol: number | null;
  factor_growth_value_spread: number | null;
  factor_momentum_spread: number | null;
  factor_size_spread: number | null;
  factor_quality_spread: number | null;
  factor_market_beta: number | null;
  data_quality_score: number | null;
  realized_vol: number | null;
  specific_vol: number | null;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  is_admin: Generated<boolean>;
  created_at: Timestamp;
  /** Tokens signed with another version are refused (migration 0008). */
  token_version: Generated<number>;
  /** The password is still the one the demo loader set (migration 0015): never on a public address. */
  has_demo_password: Generated<boolean>;
}

export interface PortfoliosTable {
  id: Generated<number>;
  owner_id: number;
  name: string;
  currency: Generated<string>;
  equity_balance: number;
  created_at: Timestamp;
}

export interface PositionsTable {
  id: Generated<number>;
  portfolio_id: number;
  symbol: string;
  position_type: PositionType;
  quantity: number;
  entry_price: number | null;
  entry_date: IsoDate | null;
  exit_date: IsoDate | null;
  underlying_symbol: string | null;
  strike_price: number | null;
  expiration_date: IsoDate | null;
  multiplier: Generated<number>;
  implied_volatility: number | null;
  created_at: Timestamp;
}

export interface PositionFactorExposuresTable {
  position_id: number;
  factor_id: number;
  calculation_date: IsoDate;
  portfolio_id: number;
  symbol: string;
  beta_symbol: string;
  exposure_value: number;
  beta: number;
  delta: number | null;
  r_squared: number | null;
  observations: number;
  quality_flag: QualityFlag;
  is_option: boolean;
  computed_at: Timestamp;
}

export interface FactorExposuresTable {
  portfolio_id: number;
  factor_id: number;
  calculation_date: IsoDate;
  source: Generated<'symbol' | 'position'>;
  exposure_value: number;
  exposure_dollar: number;
  equity: number;
  betas_date: IsoDate | null;
  positions_total: number;
  positions_missing: JSONColumnType<{ position_id: number; symbol: string }[]>;
  computed_at: Timestamp;
}

export interface PortfolioSnapshotsTable {
  portfolio_id: number;
  snapshot_date: IsoDate;
  equity: number;
  total_value: number;
  cash: number;
  long_exposure: number;
  short_exposure: number;
  gross_exposure: number;
  net_exposure: number;
  daily_pnl: number | null;
  daily_return: number | null;
  cumulative_pnl: number | null;
  portfolio_delta: number | null;
  positions_count: number;
  missing_prices: JSONColumnType<{ position_id: number; symbol: string }[]>;
  computed_at: Timestamp;
}

export type PnlMethod =
  | 'price'
  | 'option_close'
  | 'delta_approximation'
  | 'first_day'
  | 'missing_price'
  | 'expired'
  | 'entry_day'
  | 'not_held';

export interface PositionDailyValuesTable {
  position_id: number;
  value_date: IsoDate;
  portfolio_id: number;
  price: number | null;
  market_value: number | null;
  exposure: number | null;
  weight: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  theta: number | null;
  volatility: number | null;
  volatility_source: 'implied' | 'realized' | 'default' | null;
  years_to_expiry: number | null;
  pnl: number | null;
  pnl_method: PnlMethod;
  computed_at: Timestamp;
}

export interface StressTestResultsTable {
  portfolio_id: number;
  scenario: string;
  calculation_date: IsoDate;
  /** null when the scenario is not applicable. */
  pnl: number | null;
  pnl_pct: number | null;
  shocks: JSONColumnType<Record<string, number>>;
  kind: Generated<'shock' | 'historical'>;
  status: Generated<'applied' | 'not_applicable'>;
  reason: string | null;
  computed_at: Timestamp;
}

/** A view of `symbol_day_factors` since migration 0010 (writable through INSTEAD OF triggers). */
export interface SymbolSpecificRiskTable {
  symbol: string;
  calculation_date: IsoDate;
  specific_vol: number;
  observations: number;
  computed_at: Timestamp;
}

export interface RiskModelsTable {
  calculation_date: IsoDate;
  half_life: number;
  window_days: number;
  factors: string[];
  covariance: number[];
  observations: number;
  proxies: string[];
  proxy_covariance: number[];
  proxy_observations: number;
  computed_at: Timestamp;
}

export interface PortfolioRiskTable {
  portfolio_id: number;
  calculation_date: IsoDate;
  risk_model_date: IsoDate;
  half_life: number;
  equity: number;
  total_risk: number;
  factor_risk: number;
  specific_risk: number;
  tracking_error: number | null;
  report: JSONColumnType<Record<string, unknown>>;
  var: JSONColumnType<Record<string, unknown>>;
  hedges: JSONColumnType<Record<string, unknown>>;
  computed_at: Timestamp;
}

export interface PortfolioAttributionTable {
  portfolio_id: number;
  calculation_date: IsoDate;
  daily_pnl: number;
  factor_pnl: JSONColumnType<Record<string, number>>;
  specific_pnl: number;
  computed_at: Timestamp;
}

export type RunKind = 'run' | 'backfill' | 'schedule';
export type RunStatus = 'queued' | 'running' | 'completed' | 'failed';
export type JobState = 'queued' | 'active' | 'retry' | 'completed' | 'failed';

/** One run of the daily pipeline: a date, or a range of dates (a backfill). */
export interface BatchRunsTable {
  id: string;
  kind: RunKind;
  from_date: IsoDate;
  to_date: IsoDate;
  force: Generated<boolean>;
  status: Generated<RunStatus>;
  /** The trading days covered, resolved once after the market data stage. */
  days: IsoDate[] | null;
  block_days: Generated<number>;
  requested_by: string | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
}

/** One (run, stage, date block, partition): a job of the engine. */
export interface BatchJobsTable {
  run_id: string;
  stage: string;
  first_date: IsoDate;
  last_date: IsoDate;
  partition: number;
  partitions: number;
  state: Generated<JobState>;
  attempts: Generated<number>;
  boss_job_id: string | null;
  queued_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  items: number | null;
  error: string | null;
  details: Generated<JSONColumnType<Record<string, unknown>>>;
}

export interface MarketDataFetchFailuresTable {
  id: Generated<string>;
  run_id: string;
  provider: string;
  kind: 'prices' | 'profiles';
  symbol: string;
  reason: string;
  failed_at: Timestamp;
}

export interface MarketDataRevisionsTable {
  id: Generated<string>;
  run_id: string;
  provider: string;
  symbol: string;
  first_changed: IsoDate;
  rows_replaced: number;
  betas_invalidated: number;
  metrics_invalidated: number;
  metrics_repriced: number;
  actions: JSONColumnType<unknown[]>;
  revised_at: Timestamp;
}

export interface Database {
  symbol_universe: SymbolUniverseTable;
  market_data_cache: MarketDataCacheTable;
  company_profiles: CompanyProfilesTable;
  factor_definitions: FactorDefinitionsTable;
  symbol_day_factors: SymbolDayFactorsTable;
  symbol_factor_exposures: SymbolFactorExposuresTable;
  symbol_factor_skips: SymbolFactorSkipsTable;
  symbol_daily_metrics: SymbolDailyMetricsTable;
  users: UsersTable;
  portfolios: PortfoliosTable;
  positions: PositionsTable;
  position_factor_exposures: PositionFactorExposuresTable;
  factor_exposures: FactorExposuresTable;
  portfolio_snapshots: PortfolioSnapshotsTable;
  batch_runs: BatchRunsTable;
  batch_jobs: BatchJobsTable;
  position_daily_values: PositionDailyValuesTable;
  stress_test_results: StressTestResultsTable;
  symbol_specific_risk: SymbolSpecificRiskTable;
  risk_models: RiskModelsTable;
  portfolio_risk: PortfolioRiskTable;
  portfolio_attribution: PortfolioAttributionTable;
  market_data_fetch_failures: MarketDataFetchFailuresTable;
  market_data_revisions: MarketDataRevisionsTable;
}
