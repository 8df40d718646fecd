import { useMemo } from 'react';
import { fmtNum, fmtPct, signClass } from '../format.ts';
import { performance } from '../performance.ts';
import { Empty, Loading } from './States.tsx';

/** Performance figures from the snapshots: cumulative and period returns, volatility, drawdown, Sharpe. */
export function Performance({
  snapshots,
}: {
  snapshots: { date: string; equity: number; daily_return: number | null }[] | undefined;
}) {
  const f = useMemo(() => (snapshots ? performance(snapshots) : null), [snapshots]);
  return (
    <div className="panel">
      <h2>
        Performance {f && <span className="muted">{`${f.from} to ${f.to}, ${f.days} daily returns`}</span>}
      </h2>
      {!snapshots ? (
        <Loading what="snapshots" />
      ) : !f ? (
        <Empty>No snapshots yet.</Empty>
      ) : (
        <table className="plain" aria-label="Performance">
          <tbody>
            <tr data-figure="cumulative">
              <td className="text">Since inception</td>
              <td className={`num ${signClass(f.cumulative)}`}>{fmtPct(f.cumulative)}</td>
            </tr>
            {f.periods.map((p) => (
              <tr key={p.label} data-figure={p.label}>
                <td className="text">{p.label}</td>
                <td className={`num ${signClass(p.value)}`}>{fmtPct(p.value)}</td>
              </tr>
            ))}
            <tr data-figure="volatility">
              <td className="text" title="sample standard deviation of daily returns × √252">
                Volatility (annualised)
              </td>
              <td className="num">{fmtPct(f.volatility)}</td>
            </tr>
            <tr data-figure="max_drawdown">
              <td className="text" title="the deepest fall of equity from its running peak">
                Maximum drawdown
              </td>
              <td className="num">{fmtPct(f.maxDrawdown)}</td>
            </tr>
            <tr data-figure="sharpe">
              <td
                className="text"
                title="annualised mean daily return ÷ annualised volatility, risk-free rate 0"
              >
                Sharpe ratio (rf = 0)
              </td>
              <td className="num">{fmtNum(f.sharpe)}</td>
            </tr>
          </tbody>
        </table>
      )}
    </div>
  );
}
