/**
 * Factor P&L attribution of one day (METHODOLOGY.md 13). Pure.
 *
 * factor j P&L = equity_prev × x_prev,j × f_(j,D); specific = daily P&L − Σ_j factor P&L, so the
 * parts add up to the day's P&L. Without exposures of prev (the portfolio's first day, or a gap) every
 * factor P&L is 0 and the whole day is specific.
 *
 * Example: equity_prev 1,000,000, x_prev = (0.5, −0.2), f_D = (0.01, 0.02), daily P&L 9,000 →
 * factors 5,000 and −4,000, specific 8,000.
 */
export function attributeDay(
  factors: readonly string[],
  xPrev: ArrayLike<number> | null,
  equityPrev: number,
  factorReturns: ArrayLike<number>,
  dailyPnl: number,
): { factorPnl: Record<string, number>; specificPnl: number } {
  const factorPnl: Record<string, number> = {};
  let sum = 0;
  factors.forEach((f, j) => {
    const x = xPrev?.[j] ?? 0;
    const r = factorReturns[j] ?? NaN;
    const pnl = xPrev && Number.isFinite(x) && Number.isFinite(r) ? equityPrev * x * r : 0;
    factorPnl[f] = pnl;
    sum += pnl;
  });
  return { factorPnl, specificPnl: dailyPnl - sum };
}
