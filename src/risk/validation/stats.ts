/**
 * The statistics of risk forecast validation (METHODOLOGY.md 14). Pure: numbers in, numbers out; no
 * NaN ever leaves this module (an undefined statistic is null).
 */

export const TRADING_DAYS = 252;

/**
 * erfc(x) = 1 − erf(x), to about 1e-15 relative for x ≥ 0 (and by symmetry below 0).
 * - x < 2: erf(x) = 2x/√π · e^(−x²) · Σ_n (2x²)^n / (1·3·5···(2n+1)), a series of positive terms (no
 *   cancellation); erfc = 1 − erf loses at most erfc(2) ≈ 0.0047 → 2e-14 relative.
 * - x ≥ 2: the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))),
 *   evaluated from the tail (80 levels are far more than enough at x ≥ 2).
 * Worked values: erfc(0) = 1; erfc(1) = 0.157299207050285; erfc(2) = 0.004677734981047266.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    const x2 = x * x;
    let term = 1;
    let sum = 1;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
    }
    return 1 - ((2 * x) / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  }
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/**
 * P(χ²_df > x) for 1 or 2 degrees of freedom, exactly:
 * - df = 1: χ²₁ is the square of a standard normal, so P(Z² > x) = P(|Z| > √x) = erfc(√(x/2)).
 * - df = 2: χ²₂ is exponential with mean 2, so P = e^(−x/2).
 * Worked values: df 1 at 3.841458820694124 (the 95% critical value) → 0.05; df 2 at 5.991464547107979
 * (= −2 ln 0.05) → 0.05. x ≤ 0 gives 1.
 */
export function chiSquareSurvival(x: number, df: 1 | 2): number {
  if (!(x > 0)) return 1;
  return df === 1 ? erfc(Math.sqrt(x / 2)) : Math.exp(-x / 2);
}

/** a × ln b with the convention 0 × ln 0 = 0. */
const xlny = (a: number, b: number): number => (a === 0 ? 0 : a * Math.log(b));

export interface BiasResult {
  n: number;
  bias: number | null;
  band_low: number | null;
  band_high: number | null;
  within_band: boolean | null;
}

/**
 * The bias statistic of the usable z-scores (NaN entries are skipped days):
 * B = sqrt(Σ (z − z̄)² / (n − 1)); band 1 ± sqrt(2/n); within when |B − 1| ≤ sqrt(2/n).
 * n < 2: bias, band and verdict null.
 * Example: z = (1, −1, 2, −2) → z̄ = 0, Σ z² = 10, B = sqrt(10/3) = 1.8257; band 1 ± sqrt(1/2) =
 * [0.2929, 1.7071] → outside (risk under-forecast).
 */
export function biasStatistic(z: ArrayLike<number>): BiasResult {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  // Welford: one pass, no cancellation for long windows
  for (let i = 0; i < z.length; i++) {
    const v = z[i]!;
    if (Number.isNaN(v)) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  if (n < 2) return { n, bias: null, band_low: null, band_high: null, within_band: null };
  const bias = Math.sqrt(m2 / (n - 1));
  const half = Math.sqrt(2 / n);
  return { n, bias, band_low: 1 - half, band_high: 1 + half, within_band: Math.abs(bias - 1) <= half };
}

/**
 * Kupiec's unconditional coverage: LR_uc = −2 ln[(1−p)^(n−x) p^x] + 2 ln[(1−x/n)^(n−x) (x/n)^x]
 * (0 × ln 0 = 0), χ²(1). n = 0: null. Rounding can leave −1e-16 when x/n = p: clamped at 0.
 */
export function kupiec(n: number, x: number, p: number): { lr: number; p: number } | null {
  if (n === 0) return null;
  const q = x / n;
  const lr = Math.max(0, -2 * (xlny(n - x, 1 - p) + xlny(x, p)) + 2 * (xlny(n - x, 1 - q) + xlny(x, q)));
  return { lr, p: chiSquareSurvival(lr, 1) };
}

export interface Transitions {
  n00: number;
  n01: number;
  n10: number;
  n11: number;
}

/** The transition counts of a 0/1 sequence over its consecutive pairs. */
export function transitions(hits: ArrayLike<number>): Transitions {
  const c: Transitions = { n00: 0, n01: 0, n10: 0, n11: 0 };
  for (let i = 1; i < hits.length; i++) {
    const a = hits[i - 1]!;
    const b = hits[i]!;
    if (a === 0) {
      if (b === 0) c.n00++;
      else c.n01++;
    } else if (b === 0) c.n10++;
    else c.n11++;
  }
  return c;
}

/**
 * Christoffersen's independence test: with π01 = n01/(n00+n01), π11 = n11/(n10+n11) and
 * π = (n01+n11)/(all pairs),
 * LR_ind = −2 ln[(1−π)^(n00+n10) π^(n01+n11)] + 2 ln[(1−π01)^n00 π01^n01 (1−π11)^n10 π11^n11], χ²(1).
 * Null when a transition row is empty (n00 + n01 = 0 or n10 + n11 = 0): no transition out of a state.
 */
export function christoffersen(t: Transitions): { lr: number; p: number } | null {
  const { n00, n01, n10, n11 } = t;
  if (n00 + n01 === 0 || n10 + n11 === 0) return null;
  const p01 = n01 / (n00 + n01);
  const p11 = n11 / (n10 + n11);
  const pi = (n01 + n11) / (n00 + n01 + n10 + n11);
  const restricted = xlny(n00 + n10, 1 - pi) + xlny(n01 + n11, pi);
  const free = xlny(n00, 1 - p01) + xlny(n01, p01) + xlny(n10, 1 - p11) + xlny(n11, p11);
  const lr = Math.max(0, -2 * restricted + 2 * free);
  return { lr, p: chiSquareSurvival(lr, 1) };
}

/**
 * The binomial(n, p) CDF F(x) = Σ_{k ≤ x} C(n,k) p^k (1−p)^(n−k), by the term ratio
 * t_(k+1) = t_k × (n−k)/(k+1) × p/(1−p) from t_0 = (1−p)^n (no factorials; n ≤ 2,500 and p ≥ 0.01
 * keep t_0 far above the smallest double).
 */
export function binomialCdf(x: number, n: number, p: number): number {
  if (x < 0) return 0;
  if (x >= n) return 1;
  let term = Math.pow(1 - p, n);
  let sum = term;
  for (let k = 0; k < x; k++) {
    term *= ((n - k) / (k + 1)) * (p / (1 - p));
    sum += term;
  }
  return Math.min(1, sum);
}

export type Zone = 'green' | 'yellow' | 'red';

/**
 * The traffic light: green when F(x) < 0.95, yellow when F(x) < 0.9999, red otherwise (F the
 * binomial(n, p) CDF). n = 250 at 99%: green 0–4, yellow 5–9, red ≥ 10. n = 0: null.
 */
export function trafficLight(n: number, x: number, p: number): Zone | null {
  if (n === 0) return null;
  const f = binomialCdf(x, n, p);
  return f < 0.95 ? 'green' : f < 0.9999 ? 'yellow' : 'red';
}

export interface Backtest {
  n: number;
  exceptions: number;
  expected: number;
  lr_uc: number | null;
  p_uc: number | null;
  lr_ind: number | null;
  p_ind: number | null;
  lr_cc: number | null;
  p_cc: number | null;
  zone: Zone | null;
}

/**
 * A VaR backtest of the usable days' exception indicators (1 = the loss exceeded the VaR forecast),
 * in date order: Kupiec, Christoffersen over consecutive usable days, LR_cc = LR_uc + LR_ind (χ²(2)),
 * and the zone. `confidence` c gives p = 1 − c.
 */
export function backtest(hits: ArrayLike<number>, confidence: number): Backtest {
  const n = hits.length;
  const p = 1 - confidence;
  let x = 0;
  for (let i = 0; i < n; i++) x += hits[i]!;
  const uc = kupiec(n, x, p);
  const ind = n === 0 ? null : christoffersen(transitions(hits));
  const cc = uc && ind ? uc.lr + ind.lr : null;
  return {
    n,
    exceptions: x,
    expected: n * p,
    lr_uc: uc?.lr ?? null,
    p_uc: uc?.p ?? null,
    lr_ind: ind?.lr ?? null,
    p_ind: ind?.p ?? null,
    lr_cc: cc,
    p_cc: cc === null ? null : chiSquareSurvival(cc, 2),
    zone: trafficLight(n, x, p),
  };
}

/** The median of the values (mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
