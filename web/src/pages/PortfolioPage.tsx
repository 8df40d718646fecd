import { useEffect, useMemo, useState } from 'react';
import { qs } from '../api.ts';
import { DataTable, type DataColumn } from '../components/DataTable.tsx';
import { Performance } from '../components/Performance.tsx';
import { Chart, timeSeriesOption } from '../components/Chart.tsx';
import { ExposureBars, type Exposure } from '../components/ExposureBars.tsx';
import { Link } from '../components/Link.tsx';
import { Empty, Failed, Loading } from '../components/States.tsx';
import { StressPanel, type StressResult } from '../components/StressTable.tsx';
import { fmtNum, fmtPct, fmtPrice, fmtSig, fmtUsd, signClass } from '../format.ts';
import { setQuery, useLocation } from '../router.ts';
import { useApi } from '../useApi.ts';
import { OPTION_TYPES, positionLabel } from '../positions.ts';
import { PortfolioRisk } from './PortfolioRisk.tsx';
import { ActivePanel } from '../components/ActivePanel.tsx';
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
  underlying_symbol: string | null;
  strike_price: number | null;
  expiration_date: string | null;
  entry_date: string | null;
  exit_date: string | null;
  multiplier: number;
  status: 'held' | 'expired' | 'exited' | 'not_entered';
}
export interface Snapshot {
  date: string;
  equity: number;
  daily_pnl: number | null;
  daily_return: number | null;
  cumulative_pnl: number | null;
  gross_exposure: number;
  net_exposure: number;
}

/**
 * A portfolio, in two tabs (?tab=risk): the overview (exposures as bars, positions, equity curve and
 * daily P&L, stress tests) and the risk report (PortfolioRisk).
 */
export default function PortfolioPage({ id }: { id: number }) {
  const { query } = useLocation();
  const tab = query.get('tab') === 'risk' ? 'risk' : query.get('tab') === 'limits' ? 'limits' : 'overview';
  // The as-of date (?date=): every figure of the page is of that date; none: the newest computed.
  const asOf = query.get('date') ?? undefined;
  const dated = qs({ date: asOf });
  const portfolio = useApi<Portfolio>(`/portfolios/${id}`);
  const exposures = useApi<Exposures>(`/portfolios/${id}/factor-exposures${dated}`);
  const positions = useApi<{ date: string | null; positions: PositionValue[] }>(
    `/portfolios/${id}/positions/values${qs({ date: asOf, limit: 10000 })}`,
  );
  const snapshots = useApi<{ snapshots: Snapshot[] }>(
    `/portfolios/${id}/snapshots${qs({ to: asOf, limit: 10000 })}`,
  );
  const stress = useApi<StressResult[]>(`/portfolios/${id}/stress-tests${dated}`);
  const [drill, setDrill] = useState<string | null>(null);

  const last = snapshots.data?.snapshots.at(-1);
  const [latest, setLatest] = useState<string | null>(null);
  useEffect(() => {
    if (!asOf && last) setLatest(last.date);
  }, [asOf, last]);
  const equityOption = useMemo(() => {
    const s = snapshots.data?.snapshots;
    return (
      s &&
      timeSeriesOption(
        s.map((x) => x.date),
        [{ name: 'Equity', data: s.map((x) => x.equity), area: true }],
        { zoom: s.length > 60, unit: 'usd', yName: 'Equity (USD)' },
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
        { unit: 'usd', yName: 'P&L (USD)' },
      )
    );
  }, [snapshots.data]);

  if (portfolio.error) return <Failed error={portfolio.error} />;
  if (!portfolio.data) return <Loading what="portfolio" />;
  const p = portfolio.data;
  return (
    <section className="portfolio-page">
      <p className="muted">
        <Link to="/portfolios">Portfolios</Link> /
      </p>
      <div className="panel-head">
        <h1>{p.name}</h1>
        <label className="inline as-of">
          As of{' '}
          <input
            type="date"
            aria-label="As of"
            value={asOf ?? last?.date ?? ''}
            max={latest ?? undefined}
            onChange={(e) => setQuery({ date: e.target.value, from: null, to: null })}
          />
          {asOf && (
            <button type="button" onClick={() => setQuery({ date: null, from: null, to: null })}>
              Latest
            </button>
          )}
        </label>
      </div>
      {asOf && last && last.date !== asOf && (
        <p className="muted" data-testid="as-of-note">
          Figures of {last.date}, the last computed date on or before {asOf}.
        </p>
      )}
      {asOf && snapshots.data && !last && (
        <Empty>
          Nothing has been computed for this portfolio on or before {asOf}: its history starts later.
        </Empty>
      )}
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
            ['limits', 'Benchmark & limits'],
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

      {tab === 'limits' ? (
        <ActivePanel id={id} asOf={asOf} />
      ) : tab === 'risk' ? (
        <PortfolioRisk
          id={id}
          date={asOf}
          positions={positions.data?.positions}
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
                <>
                  <ExposureBars
                    exposures={exposures.data.exposures}
                    selected={drill}
                    onSelect={(f) => setDrill(drill === f ? null : f)}
                  />
                  {drill && <ExposureDrillDown id={id} factor={drill} date={exposures.data.date} />}
                </>
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
              <PositionTables positions={positions.data.positions} date={positions.data.date} name={p.name} />
            )}
          </div>

          <Performance snapshots={snapshots.data?.snapshots} />

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

const isOpt = (x: PositionValue) => OPTION_TYPES.has(x.position_type);
/** units per contract × contracts: Greeks of the position from the per-share ones */
const units = (x: PositionValue) => x.quantity * x.multiplier;
/** An option's own price (premium per share): its value ÷ (contracts × multiplier). */
const ownPrice = (x: PositionValue) =>
  x.market_value === null ? null : x.market_value / (x.quantity * x.multiplier);

const STATUS_LABEL: Record<PositionValue['status'], string> = {
  held: 'held',
  expired: 'expired',
  exited: 'exited',
  not_entered: 'not yet entered',
};

/**
 * The positions on the date: those held, in named columns (an option's own price and premium value
 * beside its delta-adjusted exposure, and the position's Greeks in their units), sortable and
 * exportable; then, apart, those expired, exited or not yet entered.
 */
function PositionTables({
  positions,
  date,
  name,
}: {
  positions: PositionValue[];
  date: string | null;
  name: string;
}) {
  const held = positions.filter((x) => x.status === 'held');
  const apart = positions.filter((x) => x.status !== 'held');
  const columns: DataColumn<PositionValue>[] = [
    {
      id: 'position',
      label: 'Position',
      text: true,
      value: (x) => positionLabel(x),
      render: (x) => <Link to={`/symbols/${encodeURIComponent(x.beta_symbol)}`}>{positionLabel(x)}</Link>,
    },
    { id: 'type', label: 'Type', text: true, value: (x) => x.position_type },
    {
      id: 'quantity',
      label: 'Quantity',
      title: 'shares, or contracts for an option',
      value: (x) => x.quantity,
      render: (x) => fmtNum(x.quantity),
    },
    {
      id: 'price',
      label: 'Price',
      title: "the stock's close, or the option's own price (premium per share)",
      value: (x) => (isOpt(x) ? ownPrice(x) : x.price),
      render: (x) => fmtPrice(isOpt(x) ? ownPrice(x) : x.price),
    },
    {
      id: 'underlying_price',
      label: 'Underlying',
      title: "an option's underlying close",
      value: (x) => (isOpt(x) ? x.price : null),
      render: (x) => (isOpt(x) ? fmtPrice(x.price) : ''),
    },
    {
      id: 'market_value',
      label: 'Value / premium',
      title: "market value of a stock; an option's premium value (contracts × multiplier × price)",
      value: (x) => x.market_value,
      render: (x) => fmtUsd(x.market_value),
    },
    {
      id: 'exposure',
      label: 'Δ-adj. exposure',
      title:
        'delta-adjusted dollar exposure: the market value of a stock; delta × contracts × multiplier × underlying for an option',
      value: (x) => x.exposure,
      render: (x) => fmtUsd(x.exposure),
    },
    {
      id: 'weight',
      label: 'Weight',
      title: 'delta-adjusted exposure ÷ equity',
      value: (x) => x.weight,
      render: (x) => fmtPct(x.weight),
    },
    {
      id: 'delta_shares',
      label: 'Delta (sh.)',
      title: 'share-equivalents: delta × contracts × multiplier (a stock: its shares)',
      value: (x) => (isOpt(x) ? (x.delta === null ? null : x.delta * units(x)) : x.quantity),
      render: (x) => fmtSig(isOpt(x) ? (x.delta === null ? null : x.delta * units(x)) : x.quantity),
    },
    {
      id: 'gamma_shares',
      label: 'Gamma (sh./$)',
      title: 'change of the share-equivalents per $1 move of the underlying',
      value: (x) => (isOpt(x) && x.gamma !== null ? x.gamma * units(x) : null),
      render: (x) => (isOpt(x) ? fmtSig(x.gamma === null ? null : x.gamma * units(x)) : ''),
    },
    {
      id: 'vega_usd',
      label: 'Vega ($/vol pt)',
      title: 'dollars per one point (0.01) of implied volatility',
      value: (x) => (isOpt(x) && x.vega !== null ? (x.vega * units(x)) / 100 : null),
      render: (x) => (isOpt(x) ? fmtUsd(x.vega === null ? null : (x.vega * units(x)) / 100) : ''),
    },
    {
      id: 'theta_usd',
      label: 'Theta ($/day)',
      title: 'dollars per calendar day of time decay',
      value: (x) => (isOpt(x) && x.theta !== null ? (x.theta * units(x)) / 365 : null),
      render: (x) => (isOpt(x) ? fmtUsd(x.theta === null ? null : (x.theta * units(x)) / 365) : ''),
    },
    {
      id: 'pnl',
      label: 'Day P&L',
      value: (x) => x.pnl,
      render: (x) => fmtUsd(x.pnl),
      cellClass: (x) => signClass(x.pnl),
    },
  ];
  const apartColumns: DataColumn<PositionValue>[] = [
    columns[0]!,
    columns[1]!,
    columns[2]!,
    {
      id: 'status',
      label: 'Status',
      text: true,
      value: (x) => STATUS_LABEL[x.status],
      render: (x) => <span className={`badge badge-${x.status}`}>{STATUS_LABEL[x.status]}</span>,
    },
    {
      id: 'when',
      label: 'On',
      text: true,
      value: (x) =>
        x.status === 'expired' ? x.expiration_date : x.status === 'exited' ? x.exit_date : x.entry_date,
    },
    columns.at(-1)!,
  ];
  const file = `${name.replace(/[^A-Za-z0-9]+/g, '-')}-positions-${date ?? 'latest'}.csv`;
  return (
    <>
      {held.length === 0 ? (
        <Empty>No position is held on this date.</Empty>
      ) : (
        <DataTable
          label="Positions"
          rows={held}
          columns={columns}
          rowKey={(x) => x.position_id}
          exportName={file}
          rowAttributes={(x) => ({ 'data-position': x.position_id })}
        />
      )}
      {apart.length > 0 && (
        <>
          <h3>Expired, exited or not yet entered</h3>
          <DataTable
            label="Positions not held"
            rows={apart}
            columns={apartColumns}
            rowKey={(x) => x.position_id}
            rowAttributes={(x) => ({ 'data-position': x.position_id, 'data-status': x.status })}
          />
        </>
      )}
    </>
  );
}

interface ExposurePart {
  position_id: number;
  symbol: string;
  position_type: string;
  beta_symbol: string;
  weight: number | null;
  dollar_exposure: number | null;
  beta: number | null;
  contribution: number | null;
}

/** The positions behind one factor exposure: weight × beta each; together they make the exposure. */
function ExposureDrillDown({ id, factor, date }: { id: number; factor: string; date: string | null }) {
  const parts = useApi<{
    factor: string;
    exposure: number;
    betas_date: string | null;
    positions: ExposurePart[];
  }>(
    `/portfolios/${id}/factor-exposures/${encodeURIComponent(factor)}/positions${qs({ date: date ?? undefined })}`,
  );
  const columns: DataColumn<ExposurePart>[] = [
    { id: 'symbol', label: 'Position', text: true, value: (x) => x.symbol },
    { id: 'beta_symbol', label: 'Beta of', text: true, value: (x) => x.beta_symbol },
    { id: 'weight', label: 'Weight', value: (x) => x.weight, render: (x) => fmtPct(x.weight) },
    { id: 'beta', label: 'Beta', value: (x) => x.beta, render: (x) => fmtNum(x.beta) },
    {
      id: 'contribution',
      label: 'Weight × beta',
      value: (x) => x.contribution,
      render: (x) => fmtPct(x.contribution),
    },
  ];
  return (
    <div className="drill" data-testid="exposure-drill">
      <h3>{factor}: the positions behind it</h3>
      {parts.error ? (
        <Failed error={parts.error} />
      ) : !parts.data ? (
        <Loading what="positions" />
      ) : (
        <DataTable
          label={`Positions behind ${factor}`}
          rows={parts.data.positions}
          columns={columns}
          rowKey={(x) => x.position_id}
          exportName={`exposure-${factor.replace(/[^A-Za-z0-9]+/g, '-')}.csv`}
          initialSort={{ id: 'contribution', order: 'desc' }}
          footer={
            <tfoot>
              <tr>
                <th className="text" colSpan={4}>
                  Total (the portfolio's exposure)
                </th>
                <th className="num" data-testid="drill-total">
                  {fmtPct(parts.data.positions.reduce((s, x) => s + (x.contribution ?? 0), 0))}
                </th>
              </tr>
            </tfoot>
          }
        />
      )}
    </div>
  );
}
