import type { VarFigures } from './var.ts';

/**
 * The shapes of the risk domain (METHODOLOGY.md 10–13), below everything that computes, loads or
 * saves them: model.ts and report.ts compute them, store.ts reads and writes them, and none of those
 * needs another's types (the circle model ⇄ report ⇄ store is gone).
 */

/**
 * The risk model of a trading day D (METHODOLOGY.md 10), stored once for the whole universe: the
 * annualised, exponentially weighted covariance of the six ridge factors' returns (their proxies'),
 * and the same for the seven stress proxies (12): the market proxy and the six.
 */
export interface RiskModel {
  date: string;
  halfLife: number;
  windowDays: number;
  /** Ridge factor names, model order; `covariance` is factors.length² row-major. */
  factors: string[];
  /** Each factor's proxy symbol, in the same order. */
  factorProxies: string[];
  covariance: Float64Array;
  observations: number;
  /** The seven stress proxies: the market proxy first, then the factors' proxies. */
  proxies: string[];
  proxyCovariance: Float64Array;
  proxyObservations: number;
}

export interface RiskReport {
  date: string;
  risk_model_date: string;
  equity: number;
  total_risk: number;
  factor_risk: number;
  specific_risk: number;
  tracking_error: number | null;
  total_risk_dollars: number;
  factor_risk_dollars: number;
  specific_risk_dollars: number;
  tracking_error_dollars: number | null;
  benchmark: string;
  factors: { factor: string; exposure: number; contribution: number; percent: number }[];
  symbols: { symbol: string; weight: number; specific_vol: number; contribution: number; percent: number }[];
  positions: { position_id: number; symbol: string; weight: number; contribution: number; percent: number }[];
  missing: { position_id: number; symbol: string; reason: string }[];
}

export interface VarReport {
  parametric: VarFigures;
  historical: VarFigures & { days: number };
}

export interface HedgeReport {
  factor_risk_before: number;
  factor_risk_after: number;
  factor_risk_before_dollars: number;
  factor_risk_after_dollars: number;
  etfs: { symbol: string; notional: number }[];
  market_hedge: { symbol: string; notional: number; beta: number } | null;
}

export interface StressRow {
  scenario: string;
  kind: 'shock' | 'historical';
  pnl: number | null;
  pnl_percent: number | null;
  status: 'applied' | 'not_applicable';
  reason?: string;
  shocks: Record<string, number>;
}

export interface AttributionDay {
  daily_pnl: number;
  factor_pnl: Record<string, number>;
  specific_pnl: number;
}

export interface RiskDay {
  portfolioId: number;
  risk: RiskReport;
  var: VarReport;
  hedges: HedgeReport;
  stress: StressRow[];
  /** Null for a what-if book (no history). */
  attribution: AttributionDay | null;
}
