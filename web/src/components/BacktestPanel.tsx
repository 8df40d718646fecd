import { useMemo, useState } from 'react';
import { qs } from '../api.ts';
import { fmtUsd } from '../format.ts';
import { useApi } from '../useApi.ts';
import { Chart } from './Chart.tsx';
import { Empty, Failed, Loading } from './States.tsx';
import { BiasLine, ZoneChip, type Zone } from './Validation.tsx';

/** GET /portfolios/{id}/validation (METHODOLOGY.md 14). */
interface PortfolioValidation {
  as_of: string | null;
  window: number;
  bias: {
    n: number;
    bias: number | null;
    band_low: number | null;
    band_high: number | null;
    within_band: boolean | null;
  };
  var_backtests: {
    method: 'parametric' | 'historical';
    confidence: number;
    n: number;
    exceptions: number;
    expected: number;
    lr_uc: number | null;
    p_uc: number | null;
    lr_ind: number | null;
    p_ind: number | null;
    lr_cc: number | null;
    p_cc: number | null;
    zone: Zone | null;
  }[];
  exceptions: { date: string; method: string; confidence: number; loss: number; var: number }[];
}
/** GET /portfolios/{id}/validation/days: each day's P&L and the VaR forecasts of the day before. */
interface BacktestDays {
  days: {
    date: string;
    pnl: number | null;
    var_parametric_95: number | null;
    var_parametric_99: number | null;
    var_historical_95: number | null;
    var_historical_99: number | null;
  }[];
}

export const WINDOWS = [60, 120, 250, 500] as const;
const fmtStat = (x: number | null) => (x === null ? '—' : x.toFixed(2));
const fmtP = (x: number | null) => (x === null ? '—' : x < 0.0001 ? '<0.0001' : x.toFixed(4));

/**
 * Daily P&L bars (exceptions in red/orange) under the −VaR lines of the chosen method, from the
 * window's first day with a P&L or a forecast (a book younger than the window starts later).
 */
function backtestOption(all: BacktestDays, method: 'parametric' | 'historical') {
  const start = all.days.findIndex((x) => x.pnl !== null || x.var_parametric_95 !== null);
  const d = { days: all.days.slice(Math.max(0, start)) };
  const v95 = d.days.map((x) => (method === 'parametric' ? x.var_parametric_95 : x.var_historical_95));
  const v99 = d.days.map((x) => (method === 'parametric' ? x.var_parametric_99 : x.var_historical_99));
  return {
    grid: { left: 8, right: 16, top: 36, bottom: 56, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => fmtUsd(v) },
    xAxis: { type: 'category', data: d.days.map((x) => x.date) },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmtUsd(v) } },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
    series: [
      {
        name: 'Daily P&L',
        type: 'bar',
        itemStyle: { color: '#94a3b8' }, // the legend's swatch; each bar sets its own
        data: d.days.map((x, i) => {
          const loss = x.pnl === null ? null : -x.pnl;
          const at99 = loss !== null && v99[i] !== null && loss > v99[i]!;
          const at95 = loss !== null && v95[i] !== null && loss > v95[i]!;
          return {
            value: x.pnl,
            itemStyle: { color: at99 ? '#dc2626' : at95 ? '#f59e0b' : '#94a3b8' },
          };
        }),
      },
      {
        name: '−VaR 95%',
        type: 'line',
        step: 'middle',
        showSymbol: false,
        lineStyle: { color: '#f59e0b', width: 1.5 },
        itemStyle: { color: '#f59e0b' },
        data: v95.map((v) => (v === null ? null : -v)),
      },
      {
        name: '−VaR 99%',
        type: 'line',
        step: 'middle',
        showSymbol: false,
        lineStyle: { color: '#dc2626', width: 1.5 },
        itemStyle: { color: '#dc2626' },
        data: v99.map((v) => (v === null ? null : -v)),
      },
    ],
  };
}

/**
 * The portfolio's Backtest panel: did its VaR hold? The window's daily P&L against the −VaR lines of
 * the day before (exceptions coloured: orange past 95%, red past 99%), the bias statistic, and the
 * tests (Kupiec, Christoffersen) with p-values and the traffic-light zone.
 */
export function BacktestPanel({ id }: { id: number }) {
  const [span, setSpan] = useState<number>(250);
  const [method, setMethod] = useState<'parametric' | 'historical'>('parametric');
  const v = useApi<PortfolioValidation>(`/portfolios/${id}/validation${qs({ window: span })}`);
  const days = useApi<BacktestDays>(`/portfolios/${id}/validation/days${qs({ window: span })}`);
  const option = useMemo(() => days.data && backtestOption(days.data, method), [days.data, method]);
  const usable = days.data?.days.some((d) => d.pnl !== null && d.var_parametric_95 !== null);

  return (
    <div className="panel" aria-label="Backtest">
      <div className="panel-head">
        <h2>
          Backtest: did the VaR hold?{' '}
          <span className="muted">{v.data?.as_of && `${v.data.window} trading days to ${v.data.as_of}`}</span>
        </h2>
        <div className="range-picker">
          <label>
            Window{' '}
            <select
              aria-label="Backtest window"
              value={span}
              onChange={(e) => setSpan(Number(e.target.value))}
            >
              {WINDOWS.map((w) => (
                <option key={w} value={w}>
                  {w} days
                </option>
              ))}
            </select>
          </label>{' '}
          <label>
            Lines{' '}
            <select
              aria-label="Backtest VaR method"
              value={method}
              onChange={(e) => setMethod(e.target.value as 'parametric' | 'historical')}
            >
              <option value="parametric">parametric</option>
              <option value="historical">historical</option>
            </select>
          </label>
        </div>
      </div>
      {v.error || days.error ? (
        <Failed error={v.error ?? days.error} />
      ) : !v.data || !days.data ? (
        <Loading what="backtest" />
      ) : (
        <>
          {usable ? (
            <Chart option={option!} label="Daily P&L against VaR" height={280} />
          ) : (
            <Empty>No day in this window has both a P&L and the VaR of the day before.</Empty>
          )}
          <p data-testid="portfolio-bias">
            <BiasLine b={v.data.bias} what="Risk forecast" />
          </p>
          <table className="plain wide" aria-label="VaR backtests">
            <thead>
              <tr>
                <th className="text">VaR</th>
                <th>Days</th>
                <th>Exceptions</th>
                <th>Expected</th>
                <th title="Kupiec: as many exceptions as expected?">LR uc</th>
                <th>p uc</th>
                <th title="Christoffersen: do exceptions cluster?">LR ind</th>
                <th>p ind</th>
                <th title="Both at once">LR cc</th>
                <th>p cc</th>
                <th className="text">Zone</th>
              </tr>
            </thead>
            <tbody>
              {v.data.var_backtests.map((t) => (
                <tr key={`${t.method} ${t.confidence}`} data-test={`${t.method}-${t.confidence}`}>
                  <td className="text">
                    {t.method} {Math.round(t.confidence * 100)}%
                  </td>
                  <td className="num">{t.n}</td>
                  <td className="num">{t.exceptions}</td>
                  <td className="num">{t.expected.toFixed(1)}</td>
                  <td className="num">{fmtStat(t.lr_uc)}</td>
                  <td className="num">{fmtP(t.p_uc)}</td>
                  <td className="num">{fmtStat(t.lr_ind)}</td>
                  <td className="num">{fmtP(t.p_ind)}</td>
                  <td className="num">{fmtStat(t.lr_cc)}</td>
                  <td className="num">{fmtP(t.p_cc)}</td>
                  <td className="text">
                    <ZoneChip zone={t.zone} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
