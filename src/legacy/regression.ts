/**
 * The legacy path's own regressions, written plainly from METHODOLOGY.md §2–§5 for one symbol at a
 * time: no prepared operators, no typed-array kernels, nothing shared with `src/math/` or
 * `src/factors/`. It is the reference the dual-write comparison holds the universe engine to, so it
 * favours the textbook form over speed.
 */

/**
 * Ridge with standardised regressors and an unpenalised intercept (§2), as scikit-learn's
 * StandardScaler + Ridge(alpha): z = (x − mean) / std (population std; a constant column keeps
 * scale 1), w = (ZᵀZ + alpha·I)⁻¹ Zᵀ(y − ȳ), beta_j = w_j / std_j, R² = 1 − SSR/SST of that fit.
 * A flat y (SST = 0) gives betas 0 and no R². Null when the normal equations are singular.
 *
 * Example (one regressor, alpha 0): x = [1, 2, 3], y = [2, 4, 6] → std 0.8165, z = [−1.2247, 0, 1.2247],
 * ZᵀZ = 3, Zᵀ(y − ȳ) = 4.899, w = 1.633, beta = 1.633 / 0.8165 = 2, R² = 1.
 */
export function plainRidge(
  x: readonly (readonly number[])[],
  y: readonly number[],
  alpha: number,
): { betas: number[]; r2: number | null } | null {
  const n = y.length;
  const k = x[0]?.length ?? 0;
  const mean: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < k; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i]![j]!;
    m /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (x[i]![j]! - m) ** 2;
    const sd = Math.sqrt(ss / n);
    mean.push(m);
    scale.push(sd > 0 ? sd : 1);
  }
  const z = x.map((row) => row.map((v, j) => (v - mean[j]!) / scale[j]!));
  let ybar = 0;
  for (const v of y) ybar += v;
  ybar /= n;
  const yc = y.map((v) => v - ybar);
  let sst = 0;
  for (const v of yc) sst += v * v;
  if (sst === 0) return { betas: new Array<number>(k).fill(0), r2: null };

  // Normal equations (ZᵀZ + alpha·I) w = Zᵀ yc, solved by Gaussian elimination with partial pivoting.
  const a: number[][] = [];
  const b: number[] = [];
  for (let p = 0; p < k; p++) {
    const row: number[] = [];
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += z[i]![p]! * z[i]![q]!;
      row.push(p === q ? s + alpha : s);
    }
    a.push(row);
    let s = 0;
    for (let i = 0; i < n; i++) s += z[i]![p]! * yc[i]!;
    b.push(s);
  }
  const w = solve(a, b);
  if (!w) return null;
  let ssr = 0;
  for (let i = 0; i < n; i++) {
    let fit = 0;
    for (let j = 0; j < k; j++) fit += z[i]![j]! * w[j]!;
    ssr += (yc[i]! - fit) ** 2;
  }
  return { betas: w.map((v, j) => v / scale[j]!), r2: 1 - ssr / sst };
}

/** Solves a·x = b (a square) by Gaussian elimination with partial pivoting; null if singular. */
export function solve(a: readonly (readonly number[])[], b: readonly number[]): number[] | null {
  const k = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    if (m[pivot]![c] === 0) return null;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    for (let r = c + 1; r < k; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let j = c; j <= k; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  const out = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let s = m[r]![k]!;
    for (let j = r + 1; j < k; j++) s -= m[r]![j]! * out[j]!;
    out[r] = s / m[r]![r]!;
  }
  return out;
}

/**
 * Univariate OLS with intercept (§3, §4): beta = cov(x, y) / var(x), R² = corr(x, y)². Null when x
 * does not vary; a flat y gives beta 0 and no R².
 * Example: x = [1, 2, 3, 4], y = [3, 5, 7, 9] → beta 2, R² 1.
 */
export function plainOls(
  x: readonly number[],
  y: readonly number[],
): { beta: number; r2: number | null } | null {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i]! - mx) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
    syy += (y[i]! - my) ** 2;
  }
  if (sxx === 0) return null;
  if (syy === 0) return { beta: 0, r2: null };
  return { beta: sxy / sxx, r2: (sxy * sxy) / (sxx * syy) };
}

export type LegacyFlag = 'full_history' | 'limited_history' | 'capped';

/**
 * §2–§5: clip to [−cap, cap]; `capped` when that changed the value, else `full_history` when the
 * sample has at least `ratio` of the window's trading days, else `limited_history`.
 * Example (cap 5, ratio 0.9, 250 window days): 7.2 → 5 capped; 0.8 from 240 days → full_history.
 */
export function capped(
  beta: number,
  observations: number,
  windowTradingDays: number,
  cap: number,
  ratio: number,
): { beta: number; flag: LegacyFlag } {
  if (Math.abs(beta) > cap) return { beta: Math.sign(beta) * cap, flag: 'capped' };
  return { beta, flag: observations >= ratio * windowTradingDays ? 'full_history' : 'limited_history' };
}

/**
 * Annualised realised volatility (§7): sample standard deviation of the returns × √252; undefined
 * with fewer than two returns or no (finite) variation.
 * Example: +1%, −1%, +1%, −1% → sd 1.1547% → 18.33%.
 */
export function plainRealizedVol(returns: readonly number[]): number | undefined {
  const n = returns.length;
  if (n < 2) return undefined;
  const mean = returns.reduce((s, r) => s + r, 0) / n;
  const variance = returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (n - 1);
  return variance > 0 && Number.isFinite(variance) ? Math.sqrt(variance * 252) : undefined;
}
