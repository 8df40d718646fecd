import { toDayNumber } from '../dates.ts';

/**
 * Daily returns of many symbols on one trading calendar, as one dense matrix.
 *
 * `returns[s * T + t]` is symbol s's return on `dates[t]`: C_t / C_(t−1) − 1 with t−1 the previous
 * trading day of the calendar, NaN when either close is missing (no forward fill, no return across
 * a gap). Row t = 0 has no previous day and is NaN.
 */
export interface ReturnsPanel {
  dates: string[];
  /** Day numbers (days since 1970-01-01) of `dates`, for window arithmetic. */
  days: Int32Array;
  symbols: string[];
  returns: Float64Array;
}

/** Builds the panel from a closes matrix in the same layout (NaN = no close). */
export function returnsFromCloses(dates: string[], symbols: string[], closes: Float64Array): ReturnsPanel {
  const T = dates.length;
  const returns = new Float64Array(symbols.length * T).fill(NaN);
  for (let s = 0; s < symbols.length; s++) {
    const o = s * T;
    for (let t = 1; t < T; t++) returns[o + t] = closes[o + t]! / closes[o + t - 1]! - 1; // NaN propagates
  }
  return { dates, days: Int32Array.from(dates, toDayNumber), symbols, returns };
}

/** Trading-day index range [from, to) of the window (D − windowDays, D] ending at index `end`. */
export function windowRange(panel: ReturnsPanel, end: number, windowDays: number): [number, number] {
  const limit = panel.days[end]! - windowDays;
  let from = end;
  while (from > 0 && panel.days[from - 1]! > limit) from--;
  return [from, end + 1];
}

export const row = (p: ReturnsPanel, s: number): Float64Array =>
  p.returns.subarray(s * p.dates.length, (s + 1) * p.dates.length);
