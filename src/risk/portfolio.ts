import { bilinear, matVec } from '../math/dense.ts';

/**
 * A portfolio's risk under the factor model (METHODOLOGY.md 10). Pure.
 *
 * With x the factor exposures (Σ_i w_i β_(s_i)), v_s the summed weight on symbol s and σ_s its
 * specific volatility: V_F = xᵀΣx, V_S = Σ_s v_s² σ_s², σ = sqrt(V_F + V_S). Euler contributions
 * sum to σ: factor j `x_j (Σx)_j / σ`, symbol s `v_s² σ_s² / σ`, position i
 * `w_i (β_sᵀΣx + v_s σ_s²) / σ`.
 *
 * Worked example (two stocks, two factors): Σ = [[0.04, 0.01], [0.01, 0.09]], A: w 0.6, β (1, 0),
 * σ_A 0.2; B: w 0.4, β (0, 1), σ_B 0.3. x = (0.6, 0.4); Σx = (0.028, 0.042); V_F = 0.0168 + 0.0168
 * = 0.0336; V_S = 0.36·0.04 + 0.16·0.09 = 0.0288; σ = sqrt(0.0624).
 */
export interface RiskPosition {
  positionId: number;
  /** The symbol whose betas apply (an option's underlying). */
  symbol: string;
  /** §7 weight (delta-adjusted for an option); null when the position has no price. */
  weight: number | null;
}

export interface RiskLookup {
  /** Factor names, the order of `covariance` and of the betas. */
  factors: readonly string[];
  covariance: Float64Array;
  betas(symbol: string): Float64Array | undefined;
  specificVol(symbol: string): number | undefined;
}

export interface PortfolioRisk {
  equity: number;
  totalRisk: number;
  factorRisk: number;
  specificRisk: number;
  /** Null when the benchmark has no betas or specific volatility. */
  trackingError: number | null;
  /** Exposures x, in factor order. */
  exposure: Float64Array;
  factors: { factor: string; exposure: number; contribution: number; percent: number }[];
  symbols: { symbol: string; weight: number; specificVol: number; contribution: number; percent: number }[];
  positions: { positionId: number; symbol: string; weight: number; contribution: number; percent: number }[];
  missing: { positionId: number; symbol: string; reason: string }[];
  /** Summed weight per symbol (v_s) of the positions counted. */
  symbolWeights: Map<string, number>;
}

export function portfolioRisk(
  positions: readonly RiskPosition[],
  equity: number,
  m: RiskLookup,
  benchmark: string,
): PortfolioRisk {
  const k = m.factors.length;
  const x = new Float64Array(k);
  const v = new Map<string, number>();
  const counted: { p: RiskPosition; weight: number }[] = [];
  const missing: PortfolioRisk['missing'] = [];
  for (const p of positions) {
    const b = p.weight === null ? undefined : m.betas(p.symbol);
    const reason =
      p.weight === null
        ? 'no price'
        : b === undefined || b.some((x) => Number.isNaN(x))
          ? 'no betas'
          : m.specificVol(p.symbol) === undefined
            ? 'no specific volatility'
            : null;
    if (reason !== null) {
      missing.push({ positionId: p.positionId, symbol: p.symbol, reason });
      continue;
    }
    const w = p.weight!;
    for (let j = 0; j < k; j++) x[j]! += w * b![j]!;
    v.set(p.symbol, (v.get(p.symbol) ?? 0) + w);
    counted.push({ p, weight: w });
  }
  const sx = matVec(m.covariance, k, k, x);
  let vf = 0;
  for (let j = 0; j < k; j++) vf += x[j]! * sx[j]!;
  let vs = 0;
  for (const [s, w] of v) vs += w * w * m.specificVol(s)! ** 2;
  const sigma = Math.sqrt(vf + vs);
  const per = (c: number) => (sigma > 0 ? c / sigma : 0);

  const factors = m.factors.map((factor, j) => {
    const contribution = per(x[j]! * sx[j]!);
    return { factor, exposure: x[j]!, contribution, percent: per(contribution) };
  });
  const symbols = [...v].map(([symbol, weight]) => {
    const specificVol = m.specificVol(symbol)!;
    const contribution = per(weight * weight * specificVol ** 2);
    return { symbol, weight, specificVol, contribution, percent: per(contribution) };
  });
  const positionsOut = counted.map(({ p, weight }) => {
    const b = m.betas(p.symbol)!;
    let marginal = 0;
    for (let j = 0; j < k; j++) marginal += b[j]! * sx[j]!;
    marginal += v.get(p.symbol)! * m.specificVol(p.symbol)! ** 2;
    const contribution = per(weight * marginal);
    return { positionId: p.positionId, symbol: p.symbol, weight, contribution, percent: per(contribution) };
  });

  return {
    equity,
    totalRisk: sigma,
    factorRisk: Math.sqrt(vf),
    specificRisk: Math.sqrt(vs),
    trackingError: trackingError(x, v, m, benchmark),
    exposure: x,
    factors,
    symbols,
    positions: positionsOut,
    missing,
    symbolWeights: v,
  };
}

/**
 * `TE = sqrt(aᵀΣa + Σ_s (v_s − b_s)² σ_s²)` with a = x − β_B and the benchmark held at weight 1
 * (b_B = 1, every other b_s = 0).
 */
function trackingError(
  x: Float64Array,
  v: Map<string, number>,
  m: RiskLookup,
  benchmark: string,
): number | null {
  const bb = m.betas(benchmark);
  const sb = m.specificVol(benchmark);
  if (bb === undefined || sb === undefined || bb.some((b) => Number.isNaN(b))) return null;
  const k = m.factors.length;
  const a = new Float64Array(k);
  for (let j = 0; j < k; j++) a[j] = x[j]! - bb[j]!;
  let te2 = bilinear(m.covariance, k, a, a);
  for (const [s, w] of v) if (s !== benchmark) te2 += w * w * m.specificVol(s)! ** 2;
  te2 += ((v.get(benchmark) ?? 0) - 1) ** 2 * sb * sb;
  return Math.sqrt(te2);
}

/** The risks (fractions of equity) in dollars: each × equity. */
export function riskDollars(r: {
  equity: number;
  total_risk: number;
  factor_risk: number;
  specific_risk: number;
  tracking_error: number | null;
}): {
  total_risk_dollars: number;
  factor_risk_dollars: number;
  specific_risk_dollars: number;
  tracking_error_dollars: number | null;
} {
  const e = r.equity;
  return {
    total_risk_dollars: r.total_risk * e,
    factor_risk_dollars: r.factor_risk * e,
    specific_risk_dollars: r.specific_risk * e,
    tracking_error_dollars: r.tracking_error === null ? null : r.tracking_error * e,
  };
}
