/**
 * The legacy path's own Black–Scholes–Merton delta (METHODOLOGY.md §7), independent of
 * `src/math/black-scholes.ts`: the normal tail is integrated numerically (composite Simpson), not
 * taken from a series, so the two agree only if both are right.
 */

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const density = (t: number): number => Math.exp(-0.5 * t * t) / SQRT_2PI;

/**
 * Upper tail Q(a) = ∫ₐ^∞ φ(t) dt for a ≥ 0, by Simpson's rule on [a, a + 12] (beyond it φ < 1e-31),
 * 24,000 intervals: an error below 1e-10 relative over the range deltas use.
 * Example: Q(0) = 0.5; Q(1.96) = 0.0249979.
 */
export function upperTail(a: number): number {
  const steps = 24_000;
  const h = 12 / steps;
  let s = density(a) + density(a + 12);
  for (let i = 1; i < steps; i++) s += (i % 2 === 1 ? 4 : 2) * density(a + i * h);
  return (s * h) / 3;
}

/** Standard normal CDF from the tail: Φ(x) = 1 − Q(x) for x ≥ 0, Q(−x) for x < 0. */
export const normalCdf = (x: number): number => (x >= 0 ? 1 - upperTail(x) : upperTail(-x));

/**
 * Delta per contract share, no dividends: d1 = (ln(S/K) + (r + σ²/2)·T) / (σ·√T); a call N(d1), a
 * put N(d1) − 1 (= −Q(d1) for d1 ≥ 0).
 * Example (Hull 19.1): S 49, K 50, r 5%, σ 20%, T 0.3846 → call delta 0.522.
 */
export function legacyDelta(
  call: boolean,
  spot: number,
  strike: number,
  years: number,
  rate: number,
  vol: number,
): number {
  const d1 = (Math.log(spot / strike) + (rate + (vol * vol) / 2) * years) / (vol * Math.sqrt(years));
  if (call) return normalCdf(d1);
  return d1 >= 0 ? -upperTail(d1) : upperTail(-d1) - 1;
}
