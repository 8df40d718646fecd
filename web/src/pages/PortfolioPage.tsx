import { useMemo } from 'react';
import { Chart, timeSeriesOption } from '../components/Chart.tsx';
import { ExposureBars, type Exposure } from '../components/ExposureBars.tsx';
import { Link } from '../components/Link.tsx';
import { Empty, Failed, Loading } from '../components/States.tsx';
import { StressPanel, type StressResult } from '../components/StressTable.tsx';
import { fmtNum, fmtPct, fmtPrice, fmtUsd, signClass } from '../format.ts';
import { setQuery, useLocation } from '../router.ts';
import { useApi } from '../useApi.ts';
import { PortfolioRisk } from './PortfolioRisk.tsx';
import type { Portfolio } from './Portfolios.tsx';

interface Exposures {
  date: string | null;
  betas_date: string | null;
  equity: number | null;
  exposures: Exposure[];
}
interface PositionValue {
  position_id: number;
  symbol: string;
  position_type: string;
  quantity: number;
  beta_symbol: string;
  price: number | null;
  market_value: number | null;
  exposure: number | null;
  weight: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  theta: number | null;
  pnl: number | null;
}
interface Snapshot {
  date: string;
  equity: number;
  daily_pnl: number | null;
  cumulative_pnl: number | null;
  gross_exposure: number;
  net_exposure: number;
}
const OPTION_TYPES = new Set(['LC', 'LP', 'SC', 'SP']);

/**
 * A portfolio, in two tabs (?tab=risk): the overview (exposures as bars, positions, equity curve and
 * daily P&L, stress tests) and the risk report (PortfolioRisk).
 */
export default function PortfolioPage({ id }: { id: number }) {
  const portfolio = useApi<Portfolio>(`/portfolios/${id}`);
  const exposures = useApi<Exposures>(`/portfolios/${id}/factor-exposures`);
  const positions = useApi<{ date: string | null; positions: PositionValue[] }>(
    `/portfolios/${id}/positions/values?limit=10000`,
  );
  const snapshots = useApi<{ snapshots: Snapshot[] }>(`/portfolios/${id}/snapshots?limit=10000`);
  const stress = useApi<StressResult[]>(`/portfolios/${id}/stress-tests`);
  const { query } = useLocation();
  const tab = query.get('tab') === 'risk' ? 'risk' : 'overview';

  const equityOption = useMemo(() => {
    const s = snapshots.data?.snapshots;
    return (
      s &&
      timeSeriesOption(
        s.map((x) => x.date),
        [{ name: 'Equity', data: s.map((x) => x.equity), area: true }],
        { zoom: s.length > 60 },
      )
    );
  }, [snapshots.data]);
  const pnlOption = useMemo(() => {
    const s = snapshots.data?.snapshots;
    return (
      s &&
      timeSeriesOption(
        s.map((x) => x.date),
        [{ name: 'Daily P&L', data: s.map((x) => x.daily_pnl), type: 'bar' }],
      )
    );
  }, [snapshots.data]);

  if (portfolio.error) return <Failed error={portfolio.error} />;
  if (!portfolio.data) return <Loading what="portfolio" />;
  const p = portfolio.data;
  const last = snapshots.data?.snapshots.at(-1);
  return (
    <section className="portfolio-page">
      <p className="muted">
        <Link to="/portfolios">Portfolios</Link> /
      </p>
      <h1>{p.name}</h1>
      <div className="kpis">
        <div>
          <span className="muted">Equity</span>
          <strong>{fmtUsd(exposures.data?.equity ?? last?.equity ?? p.equity_balance)}</strong>
        </div>
        <div>
          <span className="muted">Day P&L</span>
          <strong className={signClass(last?.daily_pnl)}>{fmtUsd(last?.daily_pnl)}</strong>
        </div>
        <div>
          <span className="muted">Cumulative P&L</span>
          <strong className={signClass(last?.cumulative_pnl)}>{fmtUsd(last?.cumulative_pnl)}</strong>
        </div>
        <div>
          <span className="muted">Gross / net</span>
          <strong>
            {fmtUsd(last?.gross_exposure)} / {fmtUsd(last?.net_exposure)}
          </strong>
        </div>
      </div>

      <div className="segmented tabs" role="tablist" aria-label="Portfolio views">
        {(
          [
            ['overview', 'Overview'],
            ['risk', 'Risk'],
          ] as const
        ).map(([t, label]) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            onClick={() => setQuery({ tab: t === 'overview' ? null : t })}
          >
            {label}
          </button>
        ))}
      </div>

      {tab === 'risk' ? (
        <PortfolioRisk
          id={id}
          range={{
            from: query.get('from') ?? undefined,
            to: query.get('to') ?? undefined,
            first: snapshots.data?.snapshots[0]?.date,
            last: last?.date,
            loading: !snapshots.data && !snapshots.error,
          }}
          stress={stress}
        />
      ) : (
        <>
          <div className="columns">
            <div className="panel">
              <h2>
                Factor exposures{' '}
                <span className="muted">{exposures.data?.date && `of ${exposures.data.date}`}</span>
              </h2>
              {exposures.error ? (
                <Failed error={exposures.error} />
              ) : !exposures.data ? (
                <Loading what="exposures" />
              ) : exposures.data.exposures.length === 0 ? (
                <Empty>No exposures computed yet: run the batch.</Empty>
              ) : (
                <ExposureBars exposures={exposures.data.exposures} />
              )}
            </div>
            <StressPanel stress={stress} />
          </div>

          <div className="panel">
            <h2>
              Positions {positions.data?.date && <span className="muted">valued {positions.data.date}</span>}
            </h2>
            {positions.error ? (
              <Failed error={positions.error} />
            ) : !positions.data ? (
              <Loading what="positions" />
            ) : positions.data.positions.length === 0 ? (
              <Empty>This portfolio has no positions.</Empty>
            ) : (
              <div className="table-scroll">
                <table className="plain wide" aria-label="Positions">
                  <thead>
                    <tr>
                      <th className="text">Symbol</th>
                      <th className="text">Type</th>
                      <th>Quantity</th>
                      <th>Price</th>
                      <th>Market value</th>
                      <th>Weight</th>
                      <th className="text">Beta symbol</th>
                      <th>Delta</th>
                      <th>Gamma</th>
                      <th>Vega</th>
                      <th>Theta</th>
                      <th>Day P&L</th>
                    </tr>
                  </thead>
                  <tbody>
                    {positions.data.positions.map((x) => {
                      const option = OPTION_TYPES.has(x.position_type);
                      return (
                        <tr key={x.position_id}>
                          <td className="text">
                            <Link to={`/symbols/${encodeURIComponent(x.beta_symbol)}`}>{x.symbol}</Link>
                          </td>
                          <td className="text">{x.position_type}</td>
                          <td className="num">{fmtNum(x.quantity)}</td>
                          <td className="num">{fmtPrice(x.price)}</td>
                          <td className="num">{fmtUsd(x.market_value)}</td>
                          <td className="num">{fmtPct(x.weight)}</td>
                          <td className="text">{x.beta_symbol}</td>
                          <td className="num">{fmtNum(x.delta)}</td>
                          <td className="num">{option ? fmtNum(x.gamma) : ''}</td>
                          <td className="num">{option ? fmtNum(x.vega) : ''}</td>
                          <td className="num">{option ? fmtNum(x.theta) : ''}</td>
                          <td className={`num ${signClass(x.pnl)}`}>{fmtUsd(x.pnl)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </div>

          <div className="columns">
            <div className="panel">
              <h2>Equity</h2>
              {snapshots.error ? (
                <Failed error={snapshots.error} />
              ) : !equityOption ? (
                <Loading what="snapshots" />
              ) : snapshots.data!.snapshots.length === 0 ? (
                <Empty>No snapshots yet.</Empty>
              ) : (
                <Chart option={equityOption} label="Equity curve" height={240} />
              )}
            </div>
            <div className="panel">
              <h2>Daily P&L</h2>
              {!pnlOption ? (
                <Loading what="snapshots" />
              ) : snapshots.data!.snapshots.length === 0 ? (
                <Empty>No snapshots yet.</Empty>
              ) : (
                <Chart option={pnlOption} label="Daily P&L" height={240} />
              )}
            </div>
          </div>
        </>
      )}
    </section>
  );
}
