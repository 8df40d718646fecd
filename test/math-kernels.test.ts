import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cholesky, choleskySolve } from '../src/math/cholesky.ts';
import { olsWithIntercept } from '../src/math/ols.ts';
import { prepareRidge, ridgeFit } from '../src/math/ridge.ts';

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('Cholesky', () => {
  it('factors and solves a hand-worked 2×2 system', () => {
    const l = cholesky(Float64Array.of(4, 2, 2, 3), 2)!;
    [2, 0, 1, Math.SQRT2].forEach((v, i) => close(l[i]!, v));
    const x = choleskySolve(l, 2, Float64Array.of(2, 1)); // 4x + 2y = 2, 2x + 3y = 1
    close(x[0]!, 0.5);
    close(x[1]!, 0);
  });

  it('refuses a matrix that is not positive definite', () => {
    assert.equal(cholesky(Float64Array.of(1, 2, 2, 1), 2), null);
  });
});

describe('univariate OLS with intercept', () => {
  it('fits an exact line: beta 2, R² 1', () => {
    const f = olsWithIntercept(Float64Array.of(1, 2, 3, 4), Float64Array.of(3, 5, 7, 9));
    close(f.beta, 2);
    close(f.r2, 1);
    assert.equal(f.n, 4);
  });

  it('uses only the days where both series exist', () => {
    // the NaN days would break the line if they were used
    const f = olsWithIntercept(Float64Array.of(1, NaN, 2, 3, 9), Float64Array.of(1, 50, 2, 3, NaN));
    assert.equal(f.n, 3);
    close(f.beta, 1);
  });

  it('hand-worked noisy case: x = [0, 1, 2], y = [0, 2, 1] → beta 0.5, R² 0.25', () => {
    // cov = ((-1)(-1) + 0 + (1)(0)) / 3 = 1/3, var(x) = 2/3, var(y) = 2/3 → beta 0.5, corr² = (1/3)² / (4/9) = 0.25
    const f = olsWithIntercept(Float64Array.of(0, 1, 2), Float64Array.of(0, 2, 1));
    close(f.beta, 0.5);
    close(f.r2, 0.25);
  });

  it('a flat y gives beta 0 and no R²; a flat x gives no beta', () => {
    const flatY = olsWithIntercept(Float64Array.of(1, 2, 3), Float64Array.of(5, 5, 5));
    assert.deepEqual([flatY.beta, Number.isNaN(flatY.r2), flatY.defined], [0, true, true]);
    assert.equal(olsWithIntercept(Float64Array.of(2, 2, 2), Float64Array.of(1, 2, 3)).defined, false);
  });
});

describe('ridge (StandardScaler + Ridge)', () => {
  it('alpha 0 on an exact line recovers the slope with R² 1', () => {
    const p = prepareRidge(Float64Array.of(1, 2, 3), 3, 1, 0)!;
    const b = new Float64Array(1);
    close(ridgeFit(p, Float64Array.of(2, 4, 6), b), 1);
    close(b[0]!, 2);
  });

  it('hand-worked shrinkage: x = [1, 2, 3], y = [2, 4, 6], alpha 1 → beta 1.5', () => {
    // z'z = n = 3 for a standardised column; z'(y − ȳ) = Σ(x − 2)(y − 4)/sd = 4/sd with sd² = 2/3;
    // w = (4/sd)/(3 + 1), beta = w/sd = 4/(sd² · 4) = 1.5
    const p = prepareRidge(Float64Array.of(1, 2, 3), 3, 1, 1)!;
    const b = new Float64Array(1);
    ridgeFit(p, Float64Array.of(2, 4, 6), b);
    close(b[0]!, 1.5);
  });

  it('a flat series gives betas 0 and no R²', () => {
    const p = prepareRidge(Float64Array.of(1, 5, 2, 7, 3, 1), 3, 2, 1)!;
    const b = Float64Array.of(9, 9);
    assert.ok(Number.isNaN(ridgeFit(p, Float64Array.of(0.01, 0.01, 0.01), b)));
    assert.deepEqual([...b], [0, 0]);
  });

  it('satisfies the ridge normal equations Xcᵀ(yc − Xc·beta) = alpha·D²·beta (property)', () => {
    const series = (n: number) =>
      fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { minLength: n, maxLength: n });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((k) =>
            fc.tuple(fc.constant(k), series(40 * k), series(40), fc.double({ min: 0, max: 5, noNaN: true })),
          ),
        ([k, xs, ys, alpha]) => {
          const n = 40;
          const x = Float64Array.from(xs);
          const y = Float64Array.from(ys);
          const p = prepareRidge(x, n, k, alpha);
          fc.pre(p !== null);
          const beta = new Float64Array(k);
          const r2 = ridgeFit(p!, y, beta);
          const mean = (j: number) => xs.filter((_, i) => i % k === j).reduce((s, v) => s + v, 0) / n;
          const ybar = ys.reduce((s, v) => s + v, 0) / n;
          const xc = (t: number, j: number) => x[t * k + j]! - mean(j);
          for (let j = 0; j < k; j++) {
            let lhs = 0;
            let var_ = 0;
            for (let t = 0; t < n; t++) {
              let fit = 0;
              for (let i = 0; i < k; i++) fit += xc(t, i) * beta[i]!;
              lhs += xc(t, j) * (y[t]! - ybar - fit);
              var_ += xc(t, j) ** 2;
            }
            const d2 = var_ / n > 0 ? var_ / n : 1;
            const rhs = alpha * d2 * beta[j]!;
            if (Math.abs(lhs - rhs) > 1e-9 * Math.max(1, Math.abs(rhs)) + 1e-15) return false;
          }
          return Number.isNaN(r2) || r2 <= 1 + 1e-12;
        },
      ),
      { numRuns: 200 },
    );
  });
});
