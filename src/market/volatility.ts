import { toDayNumber } from '../dates.ts';

/**
 * Annualised realised volatility: sample standard deviation of the daily returns on the days t with
 * D − windowDays < t ≤ D (D = the last date), times √252. `returns[t]` is the return on `dates[t]`,
 * NaN where it does not exist. Undefined with fewer than two returns or no variation.
 * Example: returns +1%, −1%, +1%, −1% → sample sd 1.1547% → 18.33% a year.
 */
export function realizedVol(
  dates: readonly string[],
  returns: Float64Array,
  windowDays: number,
): number | undefined {
  const end = dates.length - 1;
  if (end < 0) return undefined;
  const limit = toDayNumber(dates[end]!) - windowDays;
  const xs: number[] = [];
  for (let t = end; t >= 0 && toDayNumber(dates[t]!) > limit; t--)
    if (!Number.isNaN(returns[t]!)) xs.push(returns[t]!);
  if (xs.length < 2) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return variance > 0 ? Math.sqrt(variance * 252) : undefined;
}
