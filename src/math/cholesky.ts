/**
 * Cholesky factorisation and solve for the small symmetric positive-definite systems of the factor
 * models (k ≤ a few dozen). Written here rather than taken from a library: it is twenty lines, runs
 * on plain Float64Arrays without conversion, and is checked against hand-worked systems in the tests.
 *
 * Matrices are k×k, row-major. Example: A = [[4, 2], [2, 3]] factors as L = [[2, 0], [1, √2]], and
 * A x = [2, 1] solves to x = [0.5, 0].
 */

/** Lower-triangular L with A = L Lᵀ, or null when A is not (numerically) positive definite. */
export function cholesky(a: Float64Array, k: number): Float64Array | null {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j]!;
      for (let p = 0; p < j; p++) s -= l[i * k + p]! * l[j * k + p]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * k + i] = Math.sqrt(s);
      } else {
        l[i * k + j] = s / l[j * k + j]!;
      }
    }
  }
  return l;
}

/** Solves L Lᵀ x = b in place (b becomes x). */
export function choleskySolve(l: Float64Array, k: number, b: Float64Array): Float64Array {
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= l[i * k + p]! * b[p]!;
    b[i] = s / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let p = i + 1; p < k; p++) s -= l[p * k + i]! * b[p]!;
    b[i] = s / l[i * k + i]!;
  }
  return b;
}
