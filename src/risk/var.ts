/**
 * One-day value at risk and expected shortfall (METHODOLOGY.md 11), in dollars, losses positive. Pure.
 */

export const CONFIDENCES = [0.95, 0.99] as const;

/**
 * Standard normal quantiles z_c = Φ⁻¹(c) (textbook values, to double precision) and the density
 * at them, φ(z) = exp(−z²/2) / sqrt(2π).
 */
const Z: Record<(typeof CONFIDENCES)[number], number> = {
  0.95: 1.6448536269514722,
  0.99: 2.3263478740408408,
};
const phi = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

export interface VarFigures {
  var_95: number;
  es_95: number;
  var_99: number;
  es_99: number;
}

/**
 * Parametric: σ_1d = σ / sqrt(252); VaR_c = z_c σ_1d E; ES_c = φ(z_c) / (1 − c) × σ_1d E.
 * Example: σ = 0.2 × sqrt(252) (so σ_1d = 0.2), E = 100 → VaR_95 = 1.6449 × 20 = 32.897.
 */
export function parametricVar(sigmaAnnual: number, equity: number): VarFigures {
  const s = (sigmaAnnual / Math.sqrt(252)) * equity;
  return {
    var_95: Z[0.95] * s,
    es_95: (phi(Z[0.95]) / (1 - 0.95)) * s,
    var_99: Z[0.99] * s,
    es_99: (phi(Z[0.99]) / (1 - 0.99)) * s,
  };
}

/** k = ceil(N (1 − c) − 1e-9): the number of tail days. N = 250 → 13 at 95%, 3 at 99%. */
export const tailCount = (n: number, c: number): number => Math.ceil(n * (1 - c) - 1e-9);

/**
 * Historical: losses L_t = −pnl_t sorted largest first; VaR_c = the k-th largest, ES_c = the mean of
 * the k largest. Zero days give zeros.
 */
export function historicalVar(pnl: Float64Array): VarFigures & { days: number } {
  const n = pnl.length;
  const sorted = pnl.slice().sort(); // ascending P&L: the largest losses first
  const at = (c: number) => {
    const k = Math.min(n, tailCount(n, c));
    if (k === 0) return { v: 0, es: 0 };
    let s = 0;
    for (let i = 0; i < k; i++) s -= sorted[i]!;
    return { v: -sorted[k - 1]!, es: s / k };
  };
  const a = at(0.95);
  const b = at(0.99);
  return { var_95: a.v, es_95: a.es, var_99: b.v, es_99: b.es, days: n };
}

/**
 * The hypothetical daily P&L of today's weights over the return history: pnl_t = E × Σ_s v_s r_(s,t),
 * a missing return counting 0. `returns(s)` gives symbol s's N daily returns (NaN = missing), or
 * undefined for a symbol without history (all missing).
 */
export function hypotheticalPnl(
  weights: ReadonlyMap<string, number>,
  equity: number,
  days: number,
  returns: (symbol: string) => Float64Array | undefined,
): Float64Array {
  const pnl = new Float64Array(days);
  for (const [s, w] of weights) {
    const r = returns(s);
    if (!r) continue;
    for (let t = 0; t < days; t++) {
      const x = r[t]!;
      if (!Number.isNaN(x)) pnl[t]! += w * x;
    }
  }
  for (let t = 0; t < days; t++) pnl[t]! *= equity;
  return pnl;
}
