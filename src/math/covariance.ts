/**
 * Exponentially weighted covariance of a few return series (the risk model's factor covariance).
 *
 * Rows are days (oldest first), columns series: `x[t * k + j]`. With weights w_t,
 *   μ = Σ w_t x_t / Σ w_t,   C = Σ w_t (x_t − μ)(x_t − μ)ᵀ / Σ w_t
 * (numpy: `np.cov(x.T, aweights=w, ddof=0)`).
 *
 * Example: x = [[1], [3]] with weights [1, 1] → μ = 2, C = ((1−2)² + (3−2)²) / 2 = 1;
 * with weights [1, 3] → μ = 2.5, C = (1 × 2.25 + 3 × 0.25) / 4 = 0.75.
 */

/**
 * Half-life weights for n days, the newest last: w_t = 0.5^(a_t / H), a_t the number of days after t.
 * Example (n = 3, H = 1): [0.25, 0.5, 1].
 */
export function halfLifeWeights(n: number, halfLife: number): Float64Array {
  const w = new Float64Array(n);
  for (let t = 0; t < n; t++) w[t] = 0.5 ** ((n - 1 - t) / halfLife);
  return w;
}

/** The k×k weighted covariance (row-major) of an n×k row-major matrix. */
export function weightedCovariance(x: Float64Array, n: number, k: number, w: Float64Array): Float64Array {
  let sw = 0;
  for (let t = 0; t < n; t++) sw += w[t]!;
  const mean = new Float64Array(k);
  for (let t = 0; t < n; t++) for (let j = 0; j < k; j++) mean[j]! += w[t]! * x[t * k + j]!;
  for (let j = 0; j < k; j++) mean[j]! /= sw;
  const c = new Float64Array(k * k);
  const d = new Float64Array(k);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) d[j] = x[t * k + j]! - mean[j]!;
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) c[i * k + j]! += w[t]! * d[i]! * d[j]!;
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      c[i * k + j]! /= sw;
      c[j * k + i] = c[i * k + j]!;
    }
  }
  return c;
}
