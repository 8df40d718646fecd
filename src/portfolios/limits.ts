/**
 * Limits and breaches (METHODOLOGY.md 15). Pure.
 *
 * A limit bounds one number of a portfolio on D: a factor exposure (§7, fraction of equity), an
 * active exposure, total risk (§10, annualized fraction of equity), tracking error to the
 * portfolio's benchmark, VaR_c (§11, dollars) or the largest position weight (|w_i|, §7). It is
 * breached when the number lies below `lower` or above `upper`; a number that cannot be computed
 * on D (no risk model, no benchmark betas) breaches nothing.
 */

export const LIMIT_METRICS = [
  'exposure',
  'active_exposure',
  'total_risk',
  'tracking_error',
  'var',
  'max_position_weight',
] as const;
export type LimitMetric = (typeof LIMIT_METRICS)[number];
export type VarMethod = 'parametric' | 'historical';

export interface Limit {
  id: number;
  portfolio_id: number;
  name: string;
  metric: LimitMetric;
  factor: string | null;
  method: VarMethod | null;
  confidence: 0.95 | 0.99 | null;
  lower: number | null;
  upper: number | null;
}

/** The numbers of a portfolio's day a limit can bound. */
export interface LimitInputs {
  exposures: Record<string, number | null>;
  activeExposures: Record<string, number | null>;
  totalRisk: number | null;
  trackingError: number | null;
  var: Record<VarMethod, { var_95: number; var_99: number }> | null;
  /** Weights of the positions held (null without a price). */
  weights: readonly (number | null)[];
}

export interface Breach {
  limit_id: number;
  portfolio_id: number;
  name: string;
  value: number;
  lower: number | null;
  upper: number | null;
}

export function limitValue(l: Limit, x: LimitInputs): number | null {
  switch (l.metric) {
    case 'exposure':
      return x.exposures[l.factor ?? ''] ?? null;
    case 'active_exposure':
      return x.activeExposures[l.factor ?? ''] ?? null;
    case 'total_risk':
      return x.totalRisk;
    case 'tracking_error':
      return x.trackingError;
    case 'var': {
      const v = x.var?.[l.method ?? 'parametric'];
      if (!v) return null;
      return l.confidence === 0.99 ? v.var_99 : v.var_95;
    }
    case 'max_position_weight': {
      let m: number | null = null;
      for (const w of x.weights) if (w !== null && Number.isFinite(w)) m = Math.max(m ?? 0, Math.abs(w));
      return m;
    }
  }
}

export function isBreached(value: number, lower: number | null, upper: number | null): boolean {
  return (lower !== null && value < lower) || (upper !== null && value > upper);
}

/** The breaches of one portfolio's limits on D. */
export function checkLimits(limits: readonly Limit[], x: LimitInputs): Breach[] {
  const out: Breach[] = [];
  for (const l of limits) {
    const value = limitValue(l, x);
    if (value === null || !Number.isFinite(value) || !isBreached(value, l.lower, l.upper)) continue;
    out.push({
      limit_id: l.id,
      portfolio_id: l.portfolio_id,
      name: l.name,
      value,
      lower: l.lower,
      upper: l.upper,
    });
  }
  return out;
}
