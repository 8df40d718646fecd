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
  return variance > 0 ? Math.sqrt(variance * 252) : undefined;
}
