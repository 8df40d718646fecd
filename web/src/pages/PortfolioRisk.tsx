import { useMemo } from 'react';
import { qs } from '../api.ts';
import { BacktestPanel } from '../components/BacktestPanel.tsx';
import { Chart } from '../components/Chart.tsx';
import { Empty, Failed, Loading } from '../components/States.tsx';
import { StressPanel, type StressResult } from '../components/StressTable.tsx';
import { VarTable } from '../components/VarTable.tsx';
import { DataTable, type DataColumn } from '../components/DataTable.tsx';
import { fmtAxisUsd, fmtNum, fmtPct, fmtUsd, signClass } from '../format.ts';
import { positionLabel } from '../positions.ts';
import { setQuery } from '../router.ts';
import { useApi } from '../useApi.ts';

/** GET /portfolios/{id}/risk (METHODOLOGY.md 10): annualized risks as fractions of equity, and dollars. */
interface RiskReport {
  date: string;
  equity: number;
  total_risk: number;
  factor_risk: number;
  specific_risk: number;
  tracking_error: number | null;
  total_risk_dollars: number;
  factor_risk_dollars: number;
  specific_risk_dollars: number;
  tracking_error_dollars: number | null;
  benchmark: string;
  factors: { factor: string; exposure: number; contribution: number; percent: number }[];
  symbols: { symbol: string; weight: number; specific_vol: number; contribution: number; percent: number }[];
  positions: { position_id: number; symbol: string; weight: number; contribution: number; percent: number }[];
  missing: { position_id: number; symbol: string; reason: string }[];
}
interface VarFigures {
  var_95: number;
  es_95: number;
  var_99: number;
  es_99: number;
}
/** GET /portfolios/{id}/var (METHODOLOGY.md 11): one-day, in dollars, losses positive. */
interface VarReport {
  date: string;
  parametric: VarFigures;
  historical: VarFigures & { days: number };
}
/** GET /portfolios/{id}/hedges (METHODOLOGY.md 13). */
interface HedgeReport {
  date: string;
  factor_risk_before: number;
  factor_risk_after: number;
  factor_risk_before_dollars: number;
  factor_risk_after_dollars: number;
  etfs: { symbol: string; notional: number }[];
  market_hedge: { symbol: string; notional: number; beta: number } | null;
}
/** GET /portfolios/{id}/attribution?from=&to=: the factor P&L summed over the days of the range. */
interface Attribution {
  from: string;
  to: string;
  days: number;
  total_pnl: number;
  factors: { factor: string; pnl: number }[];
  specific_pnl: number;
}

/** How many positions the position-contribution chart shows (the largest by |contribution|). */
const TOP_POSITIONS = 10;

/**
 * Horizontal bars of the share of total risk (one unit on the axis, the bars and their labels: % of
 * total risk); the tooltip adds the contribution in % of equity.
 */
function contributionOption(rows: { name: string; contribution: number; percent: number }[]) {
  const ordered = [...rows].reverse(); // ECharts draws the first category at the bottom
  return {
    grid: { left: 8, right: 56, top: 8, bottom: 40, containLabel: true },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (items: { dataIndex: number }[]) => {
        const r = ordered[items[0]?.dataIndex ?? 0];
        return r
          ? `${r.name}<br/>Share of total risk: ${fmtPct(r.percent, 1)}<br/>Contribution: ${fmtPct(r.contribution)} of equity`
          : '';
      },
    },
    xAxis: {
      type: 'value',
      name: 'Share of total risk',
      nameLocation: 'middle',
      nameGap: 24,
      axisLabel: { formatter: (v: number) => fmtPct(v, 0), hideOverlap: true },
    },
    yAxis: {
      type: 'category',
      data: ordered.map((r) => r.name),
      axisLabel: { width: 150, overflow: 'truncate' },
    },
    series: [
      {
        name: 'Share of total risk',
        type: 'bar',
        data: ordered.map((r) => ({
          value: r.percent,
          itemStyle: { color: r.percent >= 0 ? '#2563eb' : '#dc2626' },
          label: { show: true, position: 'right', formatter: () => fmtPct(r.percent, 1) },
        })),
      },
    ],
  };
}

/** The range's P&L as one stacked bar (factors and specific; gains up, losses down) beside the total. */
function attributionOption(a: Attribution) {
  const parts = [
    ...a.factors.map((f) => ({ name: f.factor, pnl: f.pnl })),
    { name: 'Specific', pnl: a.specific_pnl },
  ];
  return {
    grid: { left: 8, right: 16, top: 64, bottom: 8, containLabel: true },
    legend: { top: 0 }, // plain: it wraps, so every source stays in view
    tooltip: { trigger: 'item', valueFormatter: (v: number) => fmtUsd(v) },
    xAxis: { type: 'category', data: ['By source', 'Total'] },
    yAxis: {
      type: 'value',
      name: 'P&L (USD)',
      axisLabel: { formatter: (v: number) => fmtAxisUsd(v) },
    },
    series: [
      ...parts.map((p) => ({ name: p.name, type: 'bar', stack: 'sources', data: [p.pnl, null] })),
      {
        name: 'Total',
        type: 'bar',
        stack: 'total',
        itemStyle: { color: '#6b7280' },
        data: [null, a.total_pnl],
      },
    ],
  };
}

/**
 * The portfolio page's Risk tab, from the public API only: contributions to risk (factors and the
 * largest positions), VaR and ES, stress tests, attribution over a range and the hedges.
 * The attribution range lives in the URL (?from=&to=); it defaults to the snapshots' range.
 */
export function PortfolioRisk({
  id,
  date,
  positions,
  range,
  stress,
}: {
  id: number;
  /** the as-of date (none: the newest computed) */
  date?: string;
  /** the positions of the date, to label options apart from their underlying */
  positions?: PositionLabelled[];
  range: { from?: string; to?: string; first?: string; last?: string; loading: boolean };
  stress: { data: StressResult[] | undefined; error: unknown };
}) {
  const dated = qs({ date });
  const risk = useApi<RiskReport>(`/portfolios/${id}/risk${dated}`);
  const vaR = useApi<VarReport>(`/portfolios/${id}/var${dated}`);
  const hedges = useApi<HedgeReport>(`/portfolios/${id}/hedges${dated}`);
  const labels = useMemo(
    () => new Map((positions ?? []).map((p) => [p.position_id, positionLabel(p)])),
    [positions],
  );
  const labelOf = (p: { position_id: number; symbol: string }) => labels.get(p.position_id) ?? p.symbol;
  const from = range.from ?? range.first;
  const to = range.to ?? range.last;
  const attribution = useApi<Attribution>(
    from !== undefined || to !== undefined ? `/portfolios/${id}/attribution${qs({ from, to })}` : null,
  );

  const factorOption = useMemo(() => {
    const r = risk.data;
    if (!r) return undefined;
    const specific = r.symbols.reduce((s, x) => s + x.contribution, 0);
    return contributionOption([
      ...r.factors.map((f) => ({ name: f.factor, contribution: f.contribution, percent: f.percent })),
      { name: 'Specific', contribution: specific, percent: r.total_risk > 0 ? specific / r.total_risk : 0 },
    ]);
  }, [risk.data]);
  const positionOption = useMemo(() => {
    const r = risk.data;
    if (!r) return undefined;
    const top = [...r.positions]
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
      .slice(0, TOP_POSITIONS);
    return contributionOption(
      top.map((p) => ({ name: labelOf(p), contribution: p.contribution, percent: p.percent })),
    );
  }, [risk.data, labels]);
  const attributionChart = useMemo(
    () => attribution.data && attributionOption(attribution.data),
    [attribution.data],
  );

  const r = risk.data;
  return (
    <>
      {risk.error ? (
        <Failed error={risk.error} />
      ) : !r ? (
        <Loading what="risk" />
      ) : (
        <>
          <div className="kpis" aria-label="Risk">
            <div>
              <span className="muted">Total risk (annual)</span>
              <strong>
                {fmtPct(r.total_risk)} · {fmtUsd(r.total_risk_dollars)}
              </strong>
            </div>
            <div>
              <span className="muted">Factor risk</span>
              <strong>
                {fmtPct(r.factor_risk)} · {fmtUsd(r.factor_risk_dollars)}
              </strong>
            </div>
            <div>
              <span className="muted">Specific risk</span>
              <strong>
                {fmtPct(r.specific_risk)} · {fmtUsd(r.specific_risk_dollars)}
              </strong>
            </div>
            <div>
              <span className="muted">Tracking error vs {r.benchmark}</span>
              <strong>
                {fmtPct(r.tracking_error)} · {fmtUsd(r.tracking_error_dollars)}
              </strong>
            </div>
          </div>
          <div className="columns">
            <div className="panel">
              <h2>
                Contributions to risk by factor <span className="muted">of {r.date}</span>
              </h2>
              {r.factors.length === 0 ? (
                <Empty>No factor contributions.</Empty>
              ) : (
                <Chart option={factorOption!} label="Risk contributions by factor" height={260} />
              )}
            </div>
            <div className="panel">
              <h2>
                Top positions by contribution to risk{' '}
                {r.missing.length > 0 && (
                  <span className="muted" title={r.missing.map((m) => `${m.symbol}: ${m.reason}`).join('\n')}>
                    ({r.missing.length} without risk)
                  </span>
                )}
              </h2>
              {r.positions.length === 0 ? (
                <Empty>No position has a risk contribution.</Empty>
              ) : (
                <Chart option={positionOption!} label="Risk contributions by position" height={260} />
              )}
            </div>
          </div>
          <ContributionTables report={r} labelOf={labelOf} />
        </>
      )}

      <div className="columns">
        <div className="panel">
          <h2>
            Value at risk, one day <span className="muted">{vaR.data && `of ${vaR.data.date}`}</span>
          </h2>
          {vaR.error ? (
            <Failed error={vaR.error} />
          ) : !vaR.data ? (
            <Loading what="VaR" />
          ) : (
            <VarTable label="VaR" parametric={vaR.data.parametric} historical={vaR.data.historical} />
          )}
        </div>
        <StressPanel stress={stress} />
      </div>

      <div className="columns">
        <div className="panel">
          <div className="panel-head">
            <h2>
              P&L attribution{' '}
              <span className="muted">{attribution.data && `${attribution.data.days} days`}</span>
            </h2>
            <div className="range-picker">
              <label>
                From{' '}
                <input
                  type="date"
                  aria-label="Attribution from"
                  value={from ?? ''}
                  onChange={(e) => setQuery({ from: e.target.value }, { replace: true })}
                />
              </label>{' '}
              <label>
                to{' '}
                <input
                  type="date"
                  aria-label="Attribution to"
                  value={to ?? ''}
                  onChange={(e) => setQuery({ to: e.target.value }, { replace: true })}
                />
              </label>
            </div>
          </div>
          {attribution.error ? (
            <Failed error={attribution.error} />
          ) : from === undefined && to === undefined && range.loading ? (
            <Loading what="snapshots" />
          ) : from === undefined && to === undefined ? (
            <Empty>No snapshots yet: no range to attribute.</Empty>
          ) : !attribution.data ? (
            <Loading what="attribution" />
          ) : attribution.data.days === 0 ? (
            <Empty>No attribution in this range.</Empty>
          ) : (
            <>
              <Chart option={attributionChart!} label="P&L attribution" height={260} />
              <table className="plain wide" aria-label="Attribution">
                <tbody>
                  {attribution.data.factors.map((f) => (
                    <tr key={f.factor}>
                      <td className="text">{f.factor}</td>
                      <td className={`num ${signClass(f.pnl)}`}>{fmtUsd(f.pnl)}</td>
                    </tr>
                  ))}
                  <tr>
                    <td className="text">Specific</td>
                    <td className={`num ${signClass(attribution.data.specific_pnl)}`}>
                      {fmtUsd(attribution.data.specific_pnl)}
                    </td>
                  </tr>
                  <tr>
                    <th className="text">Total</th>
                    <th className={`num ${signClass(attribution.data.total_pnl)}`}>
                      {fmtUsd(attribution.data.total_pnl)}
                    </th>
                  </tr>
                </tbody>
              </table>
            </>
          )}
        </div>
        <div className="panel">
          <h2>
            Hedges <span className="muted">{hedges.data && `of ${hedges.data.date}`}</span>
          </h2>
          {hedges.error ? (
            <Failed error={hedges.error} />
          ) : !hedges.data ? (
            <Loading what="hedges" />
          ) : (
            <>
              <p className="muted">
                Factor risk {fmtPct(hedges.data.factor_risk_before)} (
                {fmtUsd(hedges.data.factor_risk_before_dollars)}) before,{' '}
                {fmtPct(hedges.data.factor_risk_after)} ({fmtUsd(hedges.data.factor_risk_after_dollars)})
                after the ETF hedge.
              </p>
              <table className="plain wide" aria-label="Hedges">
                <thead>
                  <tr>
                    <th className="text">Hedge</th>
                    <th className="text">Symbol</th>
                    <th>Notional</th>
                  </tr>
                </thead>
                <tbody>
                  <tr className="group-row">
                    <th className="text" colSpan={3}>
                      A. The factor-ETF basket: all {hedges.data.etfs.length} trades together
                    </th>
                  </tr>
                  {hedges.data.etfs.map((e) => (
                    <tr key={e.symbol} data-hedge="basket">
                      <td className="text">Basket</td>
                      <td className="text">{e.symbol}</td>
                      <td className="num">{fmtUsd(e.notional)}</td>
                    </tr>
                  ))}
                </tbody>
                {hedges.data.market_hedge && (
                  <tbody>
                    <tr className="group-row">
                      <th className="text" colSpan={3}>
                        B. Or instead: the market alone (beta {fmtNum(hedges.data.market_hedge.beta)} to{' '}
                        {hedges.data.market_hedge.symbol})
                      </th>
                    </tr>
                    <tr data-hedge="market">
                      <td className="text">Market only</td>
                      <td className="text">{hedges.data.market_hedge.symbol}</td>
                      <td className="num">{fmtUsd(hedges.data.market_hedge.notional)}</td>
                    </tr>
                  </tbody>
                )}
              </table>
              <p className="muted small" data-testid="market-figures">
                Three "market" figures, three questions: the <b>Market Beta exposure</b> (Overview) is Σ
                weight × each stock's own one-factor beta to SPY; the <b>Market ±10%</b> stress moves SPY and,
                by their correlation, the style proxies, so its P&L also carries the style exposures; the{' '}
                <b>market-only hedge</b> zeroes the beta to SPY predicted by the factor model. A and B are
                alternatives, not to be added.
              </p>
            </>
          )}
        </div>
      </div>

      <BacktestPanel id={id} />
    </>
  );
}

/** What labels a position: its symbol, and an option's terms. */
export interface PositionLabelled {
  position_id: number;
  symbol: string;
  position_type: string;
  underlying_symbol?: string | null;
  strike_price?: number | null;
  expiration_date?: string | null;
}

type FactorRow = RiskReport['factors'][number];
type PositionRow = RiskReport['positions'][number];
/** ∂σ/∂x: the contribution divided by the exposure or weight (Euler: contribution = x × ∂σ/∂x). */
const marginal = (contribution: number, x: number) => (x !== 0 ? contribution / x : null);

/**
 * Contributions to risk as tables, sortable and exportable: by factor and by position, each with
 * its exposure or weight, marginal risk (∂σ/∂x), contribution (% of equity) and share of total risk.
 */
function ContributionTables({
  report,
  labelOf,
}: {
  report: RiskReport;
  labelOf: (p: { position_id: number; symbol: string }) => string;
}) {
  const factorColumns: DataColumn<FactorRow>[] = [
    { id: 'factor', label: 'Factor', text: true, value: (f) => f.factor },
    { id: 'exposure', label: 'Exposure', value: (f) => f.exposure, render: (f) => fmtPct(f.exposure) },
    {
      id: 'marginal',
      label: 'Marginal risk',
      title: '∂σ/∂exposure: the change of total risk per unit of exposure',
      value: (f) => marginal(f.contribution, f.exposure),
      render: (f) => fmtPct(marginal(f.contribution, f.exposure)),
    },
    {
      id: 'contribution',
      label: 'Contribution',
      title: 'exposure × marginal risk, in % of equity (they add up to total risk)',
      value: (f) => f.contribution,
      render: (f) => fmtPct(f.contribution),
    },
    {
      id: 'share',
      label: 'Share of risk',
      title: 'contribution ÷ total risk (they add up to 100%)',
      value: (f) => f.percent,
      render: (f) => fmtPct(f.percent, 1),
    },
  ];
  const positionColumns: DataColumn<PositionRow>[] = [
    { id: 'position', label: 'Position', text: true, value: (p) => labelOf(p) },
    { id: 'weight', label: 'Weight', value: (p) => p.weight, render: (p) => fmtPct(p.weight) },
    {
      id: 'marginal',
      label: 'Marginal risk',
      title: '∂σ/∂weight: the change of total risk per unit of weight',
      value: (p) => marginal(p.contribution, p.weight),
      render: (p) => fmtPct(marginal(p.contribution, p.weight)),
    },
    {
      id: 'contribution',
      label: 'Contribution',
      title: 'weight × marginal risk, in % of equity',
      value: (p) => p.contribution,
      render: (p) => fmtPct(p.contribution),
    },
    {
      id: 'share',
      label: 'Share of risk',
      title: 'contribution ÷ total risk',
      value: (p) => p.percent,
      render: (p) => fmtPct(p.percent, 1),
    },
  ];
  return (
    <div className="columns">
      <div className="panel">
        <h2>Risk by factor</h2>
        <DataTable
          label="Risk by factor"
          rows={report.factors}
          columns={factorColumns}
          rowKey={(f) => f.factor}
          exportName={`risk-factors-${report.date}.csv`}
          initialSort={{ id: 'share', order: 'desc' }}
        />
      </div>
      <div className="panel">
        <h2>Risk by position</h2>
        <DataTable
          label="Risk by position"
          rows={report.positions}
          columns={positionColumns}
          rowKey={(p) => p.position_id}
          exportName={`risk-positions-${report.date}.csv`}
          initialSort={{ id: 'share', order: 'desc' }}
          rowAttributes={(p) => ({ 'data-position': p.position_id })}
        />
      </div>
    </div>
  );
}
