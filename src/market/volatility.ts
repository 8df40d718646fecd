import { addDays } from '../dates.ts';
import { returnsFromCloses, row, windowRange } from '../factors/panel.ts';
import type { ClosesMatrix } from './closes.ts';

/**
 * Annualised realised volatility: sample standard deviation of the daily returns in
 * `returns[from..to)` (NaN where a return does not exist), times √252. Undefined with fewer than two
 * returns or no variation. Callers find the window (D − windowDays, D] once with `windowRange`.
 * Example: returns +1%, −1%, +1%, −1% → sample sd 1.1547% → 18.33% a year.
 */
export function realizedVol(returns: Float64Array, from: number, to: number): number | undefined {
  let n = 0;
  let sum = 0;
  for (let t = from; t < to; t++) {
    const r = returns[t]!;
    if (r === r) {
      n++;
      sum += r;
    }
  }
  if (n < 2) return undefined;
  const mean = sum / n;
  let ss = 0;
  for (let t = from; t < to; t++) {
    const r = returns[t]!;
    if (r === r) ss += (r - mean) ** 2;
  }
  const variance = ss / (n - 1);
  // a bad tick (an infinite return) gives no volatility rather than an infinite or NaN one
  return variance > 0 && Number.isFinite(variance) ? Math.sqrt(variance * 252) : undefined;
}

/**
 * Realised volatility of every symbol of a closes matrix over the window (D − windowDays, D] that
 * ends at date index `end`; undefined where it does not exist. Only the window's closes (and the
 * day before it, for the first return) are turned into returns.
 */
export function realizedVols(m: ClosesMatrix, end: number, windowDays: number): (number | undefined)[] {
  const T = m.dates.length;
  const limit = addDays(m.dates[end]!, -windowDays);
  const start = Math.max(0, m.dates.findIndex((d) => d > limit) - 1);
  const width = end + 1 - start;
  const closes = new Float64Array(m.symbols.length * width);
  m.symbols.forEach((_, s) => closes.set(m.closes.subarray(s * T + start, s * T + end + 1), s * width));
  const panel = returnsFromCloses(m.dates.slice(start, end + 1), m.symbols, closes);
  const [from, to] = windowRange(panel, width - 1, windowDays);
  return m.symbols.map((_, s) => realizedVol(row(panel, s), from, to));
}
