import { fmtPct, fmtUsd, signClass } from '../format.ts';
import { Empty, Failed, Loading } from './States.tsx';

/** A stress scenario's result (METHODOLOGY.md 12): applied, or not applicable with its reason. */
export interface StressResult {
  scenario: string;
  kind: string;
  pnl: number | null;
  pnl_percent: number | null;
  status: string;
  reason?: string;
  shocks: Record<string, number>;
}

/** The stress scenarios' P&L; a not-applicable one shows "n/a" with its reason as the row's tooltip. */
export function StressTable({ results }: { results: StressResult[] }) {
  return (
    <table className="plain wide" aria-label="Stress tests">
      <thead>
        <tr>
          <th className="text">Scenario</th>
          <th>P&L</th>
          <th>% equity</th>
        </tr>
      </thead>
      <tbody>
        {results.map((s) => (
          <tr
            key={s.scenario}
            title={
              s.reason ??
              Object.entries(s.shocks)
                .map(([k, v]) => `${k}: ${fmtPct(v, 1)}`)
                .join(', ')
            }
          >
            <td className="text">
              {s.scenario}
              {s.reason && (
                <div className="muted small reason" data-testid="stress-reason">
                  n/a: {s.reason}
                </div>
              )}
            </td>
            <td className={`num ${signClass(s.pnl ?? 0)}`}>{s.pnl === null ? 'n/a' : fmtUsd(s.pnl)}</td>
            <td className={`num ${signClass(s.pnl_percent ?? 0)}`}>
              {s.pnl_percent === null ? '' : fmtPct(s.pnl_percent)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The stress tests' panel of the portfolio page (both tabs): loading, empty and error states. */
export function StressPanel({ stress }: { stress: { data: StressResult[] | undefined; error: unknown } }) {
  return (
    <div className="panel">
      <h2>Stress tests</h2>
      {stress.error ? (
        <Failed error={stress.error} />
      ) : !stress.data ? (
        <Loading what="stress tests" />
      ) : stress.data.length === 0 ? (
        <Empty>No stress results yet.</Empty>
      ) : (
        <StressTable results={stress.data} />
      )}
    </div>
  );
}
