import { cholesky, choleskySolve } from './cholesky.ts';

/**
 * Ridge regression with standardised regressors and an unpenalised intercept, exactly as
 * scikit-learn's `StandardScaler` + `Ridge(alpha, fit_intercept=True)`:
 *
 *   z = (x − mean) / std            (population std; a constant column keeps scale 1)
 *   w = (ZᵀZ + alpha·I)⁻¹ Zᵀ(y − ȳ)
 *   beta_j = w_j / std_j            (back in return units)
 *
 * The design is the same for every symbol observed on the same days, so `prepareRidge` does all the
 * work that depends on X alone once: with D = diag(std) and Xc the centred design,
 *   beta = D⁻¹ (D⁻¹ XcᵀXc D⁻¹ + alpha·I)⁻¹ D⁻¹ Xcᵀ y = M y,
 * and M (k×n) is formed once. Because the columns of Xc sum to zero, M y = M (y − ȳ): each symbol
 * then costs one k×n product. Example (k = 1, alpha = 0): x = [1, 2, 3], y = [2, 4, 6] → beta = 2.
 */
export interface PreparedRidge {
  n: number;
  k: number;
  /** Centred design, n×k row-major, for residuals. */
  xc: Float64Array;
  /** The k×n operator that maps a return series to its betas. */
  m: Float64Array;
}

/** Prepares the operator for an n×k row-major design; null if the system is singular. */
export function prepareRidge(x: Float64Array, n: number, k: number, alpha: number): PreparedRidge | null {
  const mean = new Float64Array(k);
  for (let t = 0; t < n; t++) for (let j = 0; j < k; j++) mean[j]! += x[t * k + j]!;
  for (let j = 0; j < k; j++) mean[j]! /= n;
  const xc = new Float64Array(n * k);
  const scale = new Float64Array(k);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) {
      const v = x[t * k + j]! - mean[j]!;
      xc[t * k + j] = v;
      scale[j]! += v * v;
    }
  }
  for (let j = 0; j < k; j++) {
    const sd = Math.sqrt(scale[j]! / n);
    scale[j] = sd > 0 ? sd : 1; // StandardScaler leaves a constant column unscaled
  }
  const a = new Float64Array(k * k);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < k; i++) {
      const xi = xc[t * k + i]! / scale[i]!;
      for (let j = 0; j <= i; j++) a[i * k + j]! += (xi * xc[t * k + j]!) / scale[j]!;
    }
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) a[j * k + i] = a[i * k + j]!;
    a[i * k + i]! += alpha;
  }
  const l = cholesky(a, k);
  if (!l) return null;
  const m = new Float64Array(k * n);
  const col = new Float64Array(k);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) col[j] = xc[t * k + j]! / scale[j]!;
    choleskySolve(l, k, col);
    for (let j = 0; j < k; j++) m[j * n + t] = col[j]! / scale[j]!;
  }
  return { n, k, xc, m };
}

/**
 * Betas and in-sample R² of one series y (length n) on a prepared design.
 * `betas` receives k values; returns R², or NaN when y is constant (SST = 0), in which case the
 * betas are 0. `residual`, when given, receives the sum of squared residuals of the fit (intercept
 * included, before any cap): Σ (y_t − ȳ − Σ_j xc_tj β_j)², 0 for a constant y. It falls out of the
 * R² computation, so the risk model's specific volatility costs no second regression.
 */
export function ridgeFit(
  p: PreparedRidge,
  y: Float64Array,
  betas: Float64Array,
  residual?: { ssr: number },
): number {
  const { n, k, m, xc } = p;
  let ybar = 0;
  for (let t = 0; t < n; t++) ybar += y[t]!;
  ybar /= n;
  let sst = 0;
  for (let t = 0; t < n; t++) sst += (y[t]! - ybar) ** 2;
  if (sst === 0) {
    betas.fill(0);
    if (residual) residual.ssr = 0;
    return NaN;
  }
  for (let j = 0; j < k; j++) {
    let s = 0;
    const row = j * n;
    for (let t = 0; t < n; t++) s += m[row + t]! * y[t]!;
    betas[j] = s;
  }
  let ssr = 0;
  for (let t = 0; t < n; t++) {
    let fit = 0;
    for (let j = 0; j < k; j++) fit += xc[t * k + j]! * betas[j]!;
    ssr += (y[t]! - ybar - fit) ** 2;
  }
  if (residual) residual.ssr = ssr;
  return 1 - ssr / sst;
}
