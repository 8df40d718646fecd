import { useMemo } from 'react';
import { qs } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { Empty, Failed, Loading } from '../components/States.tsx';
import { biasVerdict, type Bias } from '../components/Validation.tsx';
import { fmtPct } from '../format.ts';
import { setQuery, useLocation } from '../router.ts';
import { useApi } from '../useApi.ts';

/** GET /risk-model: the stored factor covariance (annualised) of the newest model on or before a date. */
interface RiskModelAnswer {
  date: string;
  half_life: number;
  window_days: number;
  observations: number;
  factors: string[];
  covariance: number[][];
}
/** GET /risk-model/validation (METHODOLOGY.md 14). */
interface Validation {
  as_of: string | null;
  window: number;
  factors: (Bias & { factor: string })[];
  specific: { median_bias: number | null; share_within_band: number | null; symbols: number };
}
/** GET /risk-model/validation/rolling: each factor's bias over the 60 days ending at each day. */
interface Rolling {
  window: number;
  dates: string[];
  factors: { factor: string; bias: (number | null)[] }[];
}

const WINDOWS = [60, 120, 250, 500, 1000] as const;
const COLORS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d'];

/** A correlation's cell colour: blue positive, red negative, full at |ρ| = 1. */
function correlationColor(r: number): string {
  const a = Math.min(Math.abs(r), 1) * 0.6;
  return r >= 0 ? `rgba(37, 99, 235, ${a.toFixed(3)})` : `rgba(220, 38, 38, ${a.toFixed(3)})`;
}

/** Each factor's bias (a diamond, green inside its band, red outside) over its band (a grey bar). */
function biasOption(v: Validation) {
  const rows = v.factors;
  return {
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    legend: { top: 0, data: ['Bias', 'Band 1 ± √(2/n)'] },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: rows.map((f) => f.factor) },
    yAxis: { type: 'value', scale: true },
    series: [
      {
        name: 'band base',
        type: 'bar',
        stack: 'band',
        silent: true,
        itemStyle: { color: 'transparent' },
        tooltip: { show: false },
        data: rows.map((f) => f.band_low),
      },
      {
        name: 'Band 1 ± √(2/n)',
        type: 'bar',
        stack: 'band',
        barWidth: '45%',
        itemStyle: { color: 'rgba(148, 163, 184, 0.45)' },
        data: rows.map((f) => (f.band_low === null ? null : f.band_high! - f.band_low)),
        tooltip: { valueFormatter: () => '' },
      },
      {
        // a line series drawn as its points only (the chart bundle carries bars and lines)
        name: 'Bias',
        type: 'line',
        symbol: 'diamond',
        symbolSize: 16,
        showSymbol: true,
        lineStyle: { width: 0 },
        data: rows.map((f) => ({
          value: f.bias,
          itemStyle: { color: f.within_band === false ? '#dc2626' : '#16a34a' },
        })),
        tooltip: { valueFormatter: (x: number) => x.toFixed(3) },
      },
      {
        name: 'calibrated',
        type: 'line',
        silent: true,
        showSymbol: false,
        lineStyle: { type: 'dashed', color: '#64748b', width: 1 },
        data: rows.map(() => 1),
        tooltip: { show: false },
      },
    ],
  };
}

/** The rolling bias of every factor, from the first day that has a full window, with the band of that window. */
function rollingOption(r: Rolling) {
  const first = Math.max(
    0,
    r.dates.findIndex((_, i) => r.factors.some((f) => f.bias[i] !== null)),
  );
  const dates = r.dates.slice(first);
  const half = Math.sqrt(2 / r.window);
  const flat = (y: number, name: string) => ({
    name,
    type: 'line',
    silent: true,
    showSymbol: false,
    lineStyle: { type: 'dashed', color: '#64748b', width: 1 },
    itemStyle: { color: '#64748b' },
    data: dates.map(() => y),
  });
  return {
    grid: { left: 8, right: 16, top: 36, bottom: 56, containLabel: true },
    legend: { type: 'scroll', top: 0 },
    tooltip: { trigger: 'axis', valueFormatter: (x: number | null) => (x === null ? '—' : x.toFixed(2)) },
    xAxis: { type: 'category', data: dates },
    yAxis: { type: 'value', scale: true },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
    series: [
      ...r.factors.map((f, j) => ({
        name: f.factor,
        type: 'line',
        showSymbol: false,
        sampling: 'lttb',
        lineStyle: { width: 1.5, color: COLORS[j % COLORS.length] },
        itemStyle: { color: COLORS[j % COLORS.length] },
        data: f.bias.slice(first),
      })),
      flat(1 + half, `band high (${r.window} days)`),
      flat(1 - half, `band low (${r.window} days)`),
    ],
  };
}

/**
 * The Risk model page: each factor's volatility and the correlation heat map of a date's stored
 * covariance; did those forecasts hold? — each factor's bias against its band over a window, the
 * 60-day rolling bias over the stored history, and the specific-risk summary. Date and window in the
 * URL (?date=&window=).
 */
export default function RiskModel() {
  const { query } = useLocation();
  const date = query.get('date') ?? undefined;
  const span = Number(query.get('window') ?? 250);
  const model = useApi<RiskModelAnswer>(`/risk-model${qs({ date })}`);
  const validation = useApi<Validation>(`/risk-model/validation${qs({ date, window: span })}`);
  const rolling = useApi<Rolling>(`/risk-model/validation/rolling${qs({ date, days: 2500 })}`);

  const vols = useMemo(
    () => model.data?.covariance.map((row, i) => Math.sqrt(Math.max(row[i]!, 0))),
    [model.data],
  );
  const biasChart = useMemo(() => validation.data && biasOption(validation.data), [validation.data]);
  const rollingChart = useMemo(() => rolling.data && rollingOption(rolling.data), [rolling.data]);
  const m = model.data;
  const v = validation.data;

  return (
    <section>
      <div className="panel-head">
        <h1>
          Risk model <span className="muted">{m && `of ${m.date}, half-life ${m.half_life} days`}</span>
        </h1>
        <div className="range-picker">
          <label>
            As of{' '}
            <input
              type="date"
              aria-label="Risk model date"
              value={date ?? m?.date ?? ''}
              onChange={(e) => setQuery({ date: e.target.value }, { replace: true })}
            />
          </label>{' '}
          <label>
            Window{' '}
            <select
              aria-label="Validation window"
              value={span}
              onChange={(e) => setQuery({ window: e.target.value }, { replace: true })}
            >
              {WINDOWS.map((w) => (
                <option key={w} value={w}>
                  {w} days
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>

      <div className="columns">
        <div className="panel">
          <h2>Factor volatility and forecast bias</h2>
          {model.error ? (
            <Failed error={model.error} />
          ) : validation.error ? (
            <Failed error={validation.error} />
          ) : !m || !v ? (
            <Loading what="risk model" />
          ) : (
            <table className="plain wide" aria-label="Factor volatility and bias">
              <thead>
                <tr>
                  <th className="text">Factor</th>
                  <th>Volatility (annual)</th>
                  <th>Days</th>
                  <th>Bias</th>
                  <th>Band</th>
                  <th className="text">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {m.factors.map((f, i) => {
                  const b = v.factors.find((x) => x.factor === f);
                  return (
                    <tr key={f} data-factor={f}>
                      <td className="text">{f}</td>
                      <td className="num">{fmtPct(vols![i])}</td>
                      <td className="num">{b?.n ?? 0}</td>
                      <td className="num">{b?.bias === null || !b ? '—' : b.bias.toFixed(3)}</td>
                      <td className="num">
                        {b && b.band_low !== null
                          ? `${b.band_low.toFixed(3)} – ${b.band_high!.toFixed(3)}`
                          : '—'}
                      </td>
                      <td className={`text ${b?.within_band === false ? 'neg' : ''}`}>
                        {b ? biasVerdict(b) : '—'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {v && (
            <p data-testid="specific-summary">
              Specific risk: median bias{' '}
              <strong>{v.specific.median_bias === null ? '—' : v.specific.median_bias.toFixed(3)}</strong>{' '}
              over {v.specific.symbols} symbols, {fmtPct(v.specific.share_within_band, 1)} inside their band.
            </p>
          )}
        </div>
        <div className="panel">
          <h2>
            Correlations <span className="muted">{m && `${m.observations} days`}</span>
          </h2>
          {model.error ? (
            <Failed error={model.error} />
          ) : !m || !vols ? (
            <Loading what="correlations" />
          ) : (
            <table className="plain heatmap" aria-label="Factor correlations">
              <thead>
                <tr>
                  <th />
                  {m.factors.map((f) => (
                    <th key={f} title={f}>
                      {f}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {m.factors.map((f, i) => (
                  <tr key={f}>
                    <th className="text">{f}</th>
                    {m.factors.map((g, j) => {
                      const r = m.covariance[i]![j]! / (vols[i]! * vols[j]!);
                      return (
                        <td
                          key={g}
                          className="num"
                          style={{ background: correlationColor(r) }}
                          title={`${f} / ${g}`}
                        >
                          {Number.isFinite(r) ? r.toFixed(2) : '—'}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>

      <div className="panel">
        <h2>
          Factor bias against its band{' '}
          <span className="muted">{v?.as_of && `${v.window} trading days to ${v.as_of}`}</span>
        </h2>
        {validation.error ? (
          <Failed error={validation.error} />
        ) : !v ? (
          <Loading what="bias" />
        ) : v.factors.every((f) => f.bias === null) ? (
          <Empty>No forecast in this window has an outcome yet.</Empty>
        ) : (
          <Chart option={biasChart!} label="Factor bias against the band" height={260} />
        )}
      </div>

      <div className="panel">
        <h2>
          Rolling bias <span className="muted">{rolling.data && `${rolling.data.window}-day window`}</span>
        </h2>
        {rolling.error ? (
          <Failed error={rolling.error} />
        ) : !rolling.data ? (
          <Loading what="rolling bias" />
        ) : rolling.data.factors.every((f) => f.bias.every((b) => b === null)) ? (
          <Empty>The stored history is shorter than one {rolling.data.window}-day window.</Empty>
        ) : (
          <Chart option={rollingChart!} label="Rolling factor bias" height={300} />
        )}
      </div>
    </section>
  );
}
