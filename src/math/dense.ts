import { cholesky, choleskySolve } from './cholesky.ts';

/**
 * Small dense linear algebra on row-major Float64Arrays (the risk model's 6×6 and 7×7 matrices).
 *
 * Example: A = [[2, 1], [1, 3]], x = [1, 2] → A x = [4, 7], xᵀA x = 1·4 + 2·7 = 18.
 */

/** y = A x for an r×c matrix A. */
export function matVec(a: Float64Array, r: number, c: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += a[i * c + j]! * x[j]!;
    y[i] = s;
  }
  return y;
}

/** xᵀ A y for a k×k matrix A. */
export function bilinear(a: Float64Array, k: number, x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < k; i++) {
    let row = 0;
    for (let j = 0; j < k; j++) row += a[i * k + j]! * y[j]!;
    s += x[i]! * row;
  }
  return s;
}

/** The rows `rows` and columns `cols` of a k×k matrix, as a rows.length × cols.length matrix. */
export function submatrix(
  a: Float64Array,
  k: number,
  rows: readonly number[],
  cols: readonly number[],
): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((i, r) => cols.forEach((j, c) => (out[r * cols.length + c] = a[i * k + j]!)));
  return out;
}

/** Solves A x = b for a symmetric positive-definite k×k A; null when A is not positive definite. */
export function solveSpd(a: Float64Array, k: number, b: ArrayLike<number>): Float64Array | null {
  const l = cholesky(a, k);
  return l ? choleskySolve(l, k, Float64Array.from(b)) : null;
}

/**
 * Eigen-decomposition of a symmetric k×k matrix by cyclic Jacobi rotations: A = V diag(λ) Vᵀ.
 * Returns the eigenvalues and V (row-major, eigenvectors in columns). Meant for k ≤ ~20.
 * Example: [[2, 1], [1, 2]] → λ = {1, 3} with eigenvectors (1, −1)/√2 and (1, 1)/√2.
 */
export function symmetricEigen(a: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) off += m[i * k + j]! ** 2;
    if (off === 0 || off < 1e-30 * frobenius2(m)) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q]!;
        if (apq === 0) continue;
        const theta = (m[q * k + q]! - m[p * k + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = m[r * k + p]!;
          const arq = m[r * k + q]!;
          m[r * k + p] = c * arp - s * arq;
          m[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = m[p * k + r]!;
          const aqr = m[q * k + r]!;
          m[p * k + r] = c * apr - s * aqr;
          m[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p]!;
          const vrq = v[r * k + q]!;
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = m[i * k + i]!;
  return { values, vectors: v };
}

function frobenius2(m: Float64Array): number {
  let s = 0;
  for (const x of m) s += x * x;
  return s;
}

/**
 * The minimum-norm least-squares solution of A x = b for a symmetric positive semi-definite k×k A
 * (the pseudo-inverse A⁺ b): eigen-directions with eigenvalue ≤ `relTol` × the largest are dropped.
 * Example: A = [[1, 1], [1, 1]], b = [2, 2] → x = [1, 1] (of all x with x₁ + x₂ = 2, the shortest).
 */
export function pseudoSolve(a: Float64Array, k: number, b: ArrayLike<number>, relTol = 1e-12): Float64Array {
  const { values, vectors } = symmetricEigen(a, k);
  const top = Math.max(0, ...values);
  const x = new Float64Array(k);
  for (let e = 0; e < k; e++) {
    const lambda = values[e]!;
    if (!(lambda > relTol * top)) continue;
    let proj = 0;
    for (let i = 0; i < k; i++) proj += vectors[i * k + e]! * b[i]!;
    for (let i = 0; i < k; i++) x[i]! += (vectors[i * k + e]! * proj) / lambda;
  }
  return x;
}
