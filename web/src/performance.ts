/**
 * A portfolio's performance figures from its snapshots (pure; the Performance panel shows them).
 * Daily return r_t = the snapshot's daily_return (P&L ÷ the previous equity), or equity_t ÷ equity_t-1 − 1.
 */
export interface PerformanceFigures {
  from: string;
  to: string;
  days: number;
  cumulative: number | null;
  periods: { label: string; from: string; value: number | null }[];
  /** annualised: sample standard deviation × √252 */
  volatility: number | null;
  /** the deepest fall of equity from its running peak, a negative fraction (0: none) */
  maxDrawdown: number | null;
  /** annualised mean return ÷ annualised volatility (risk-free rate taken as 0) */
  sharpe: number | null;
}

interface Point {
  date: string;
  equity: number;
  daily_return: number | null;
}

const shiftMonths = (iso: string, months: number) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.toISOString().slice(0, 10);
};

export function performance(snapshots: Point[]): PerformanceFigures | null {
  if (snapshots.length === 0) return null;
  const returns: { date: string; r: number }[] = [];
  for (let i = 1; i < snapshots.length; i++) {
    const s = snapshots[i]!;
    const prev = snapshots[i - 1]!;
    const r = s.daily_return ?? (prev.equity !== 0 ? s.equity / prev.equity - 1 : null);
    if (r !== null && Number.isFinite(r)) returns.push({ date: s.date, r });
  }
  const compound = (rs: { r: number }[]) =>
    rs.length === 0 ? null : rs.reduce((g, x) => g * (1 + x.r), 1) - 1;
  const first = snapshots[0]!.date;
  const last = snapshots.at(-1)!.date;
  const since = (from: string) => compound(returns.filter((x) => x.date > from));
  const periods = [
    { label: '1 month', from: shiftMonths(last, 1) },
    { label: '3 months', from: shiftMonths(last, 3) },
    { label: 'Year to date', from: `${Number(last.slice(0, 4)) - 1}-12-31` },
  ]
    // a period that starts before the history does is not shown as if it were complete
    .filter((p) => p.from >= first)
    .map((p) => ({ ...p, value: since(p.from) }));
  const n = returns.length;
  const mean = n > 0 ? returns.reduce((s, x) => s + x.r, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(returns.reduce((s, x) => s + (x.r - mean) ** 2, 0) / (n - 1)) : NaN;
  let peak = -Infinity;
  let maxDrawdown = 0;
  for (const s of snapshots) {
    peak = Math.max(peak, s.equity);
    if (peak > 0) maxDrawdown = Math.min(maxDrawdown, s.equity / peak - 1);
  }
  const volatility = Number.isFinite(sd) ? sd * Math.sqrt(252) : null;
  return {
    from: first,
    to: last,
    days: n,
    cumulative: compound(returns),
    periods,
    volatility,
    maxDrawdown: snapshots.length > 1 ? maxDrawdown : null,
    sharpe: volatility && volatility > 0 ? (mean * 252) / volatility : null,
  };
}
