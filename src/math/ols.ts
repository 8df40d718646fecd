/**
 * Univariate OLS with intercept over the days where both series exist (NaN marks a missing value):
 *   beta = cov(x, y) / var(x),   R² = corr(x, y)²
 * Sums are taken around the sample means (two passes) so that small daily returns keep their digits.
 * Example: x = [1, 2, 3, 4], y = [3, 5, 7, 9] → beta 2, R² 1, n 4.
 */
export interface OlsFit {
  beta: number;
  /** NaN when y is constant over the sample (SST = 0); the beta is then 0. */
  r2: number;
  n: number;
  /** False when x is constant over the sample, so no beta exists. */
  defined: boolean;
}

export function olsWithIntercept(x: Float64Array, y: Float64Array, from = 0, to = x.length): OlsFit {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let t = from; t < to; t++) {
    const xv = x[t]!;
    const yv = y[t]!;
    if (xv === xv && yv === yv) {
      n++;
      sx += xv;
      sy += yv;
    }
  }
  if (n === 0) return { beta: NaN, r2: NaN, n, defined: false };
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let t = from; t < to; t++) {
    const xv = x[t]!;
    const yv = y[t]!;
    if (xv === xv && yv === yv) {
      const dx = xv - mx;
      const dy = yv - my;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
    }
  }
  if (sxx === 0) return { beta: NaN, r2: NaN, n, defined: false };
  if (syy === 0) return { beta: 0, r2: NaN, n, defined: true };
  return { beta: sxy / sxx, r2: (sxy * sxy) / (sxx * syy), n, defined: true };
}
