import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { legacyDelta, normalCdf, upperTail } from '../src/legacy/option-delta.ts';
import { capped, plainOls, plainRealizedVol, plainRidge, solve } from '../src/legacy/regression.ts';

const near = (a: number | null | undefined, b: number, tol = 1e-12) =>
  assert.ok(
    a !== null && a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
    `${a} vs ${b}`,
  );

describe("the legacy path's own kernels, by hand", () => {
  it('ridge, alpha 1: x = [1, 2, 3], y = [2, 4, 6] → beta 1.5, R² 0.9375', () => {
    // std 0.816497, z = [−1.224745, 0, 1.224745]; ZᵀZ = 3; Zᵀ(y − ȳ) = 2 × 1.224745 × 2 = 4.898979
    // w = 4.898979 / (3 + 1) = 1.224745; beta = w / std = 1.5
    // fitted (centred) = [−1.5, 0, 1.5] against [−2, 0, 2]: SSR 0.5, SST 8, R² = 1 − 0.5/8 = 0.9375
    const fit = plainRidge([[1], [2], [3]], [2, 4, 6], 1)!;
    near(fit.betas[0], 1.5);
    near(fit.r2, 0.9375);
  });

  it('ridge, alpha 0, two regressors: y = 2·x1 − x2 exactly → betas 2, −1 and R² 1', () => {
    const x = [
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 5],
    ];
    const fit = plainRidge(
      x,
      x.map(([a, b]) => 2 * a! - b!),
      0,
    )!;
    near(fit.betas[0], 2, 1e-12);
    near(fit.betas[1], -1, 1e-12);
    near(fit.r2, 1);
  });

  it('a flat series: betas 0, no R²', () => {
    assert.deepEqual(plainRidge([[1], [2], [3]], [5, 5, 5], 1), { betas: [0], r2: null });
    assert.deepEqual(plainOls([1, 2, 3], [5, 5, 5]), { beta: 0, r2: null });
  });

  it('Gaussian elimination with pivoting: [[0, 1], [2, 3]]·x = [1, 8] → x = [2.5, 1]; singular → null', () => {
    assert.deepEqual(
      solve(
        [
          [0, 1],
          [2, 3],
        ],
        [1, 8],
      ),
      [2.5, 1],
    );
    assert.equal(
      solve(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
      null,
    );
  });

  it('OLS: x = [1, 2, 3, 4], y = [3, 5, 7, 9] → beta 2, R² 1; a constant x has no beta', () => {
    near(plainOls([1, 2, 3, 4], [3, 5, 7, 9])!.beta, 2);
    assert.equal(plainOls([1, 1, 1], [1, 2, 3]), null);
  });

  it('cap and flags: 7.2 → 5 capped; 0.8 from 240 of 250 days full_history; from 200 limited_history', () => {
    assert.deepEqual(capped(7.2, 250, 250, 5, 0.9), { beta: 5, flag: 'capped' });
    assert.deepEqual(capped(-6, 250, 250, 5, 0.9), { beta: -5, flag: 'capped' });
    assert.deepEqual(capped(0.8, 240, 250, 5, 0.9), { beta: 0.8, flag: 'full_history' });
    assert.deepEqual(capped(0.8, 200, 250, 5, 0.9), { beta: 0.8, flag: 'limited_history' });
  });

  it('realised volatility: +1%, −1%, +1%, −1% → sample sd 1.1547% → 18.330% a year', () => {
    near(plainRealizedVol([0.01, -0.01, 0.01, -0.01]), Math.sqrt(0.0004 / 3) * Math.sqrt(252), 1e-12);
    assert.equal(plainRealizedVol([0.01]), undefined);
  });

  it('normal tail by Simpson against tabulated values: Φ(0) = 0.5, Φ(1.96) = 0.9750021048517795, Q(3) = 0.0013498980316301', () => {
    near(normalCdf(0), 0.5, 1e-12);
    near(normalCdf(1.96), 0.9750021048517795, 1e-12);
    near(normalCdf(-1), 0.15865525393145707, 1e-11);
    near(upperTail(3), 0.0013498980316301, 1e-9);
  });

  it("Hull's example 19.1: S 49, K 50, r 5%, σ 20%, T 0.3846 → call delta 0.522; put = call − 1", () => {
    const call = legacyDelta(true, 49, 50, 0.3846, 0.05, 0.2);
    assert.ok(Math.abs(call - 0.522) < 5e-4, String(call));
    near(legacyDelta(false, 49, 50, 0.3846, 0.05, 0.2), call - 1, 1e-12);
  });
});
