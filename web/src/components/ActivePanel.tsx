import { useMemo, useState } from 'react';
import { api, ApiError, qs } from '../api.ts';
import { Chart, timeSeriesOption } from './Chart.tsx';
import { Empty, Failed, Loading } from './States.tsx';
import { fmtLimit, fmtPct } from '../format.ts';
import { useApi } from '../useApi.ts';

/**
 * Benchmark-relative figures and limits of a portfolio (METHODOLOGY §15): the benchmark, exposure
 * history (absolute or active, factors selectable), the limits editor, the breach timeline and the
 * report downloads.
 */
type Benchmark = { symbol?: string; portfolio_id?: number; default?: boolean };
interface HistoryRow {
  date: string;
  exposures: Record<string, number | null>;
  active_exposures: Record<string, number | null>;
  tracking_error: number | null;
  active_return: number | null;
}
interface Limit {
  id: number;
  name: string;
  metric: string;
  factor: string | null;
  method: string | null;
  confidence: number | null;
  lower: number | null;
  upper: number | null;
}
interface Breach {
  limit_id: number;
  name: string;
  date: string;
  value: number;
  lower: number | null;
  upper: number | null;
}
const METRICS = ['exposure', 'active_exposure', 'total_risk', 'tracking_error', 'var', 'max_position_weight'];

export function ActivePanel({ id, asOf }: { id: number; asOf?: string }) {
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  const portfolio = useApi<{ benchmark: Benchmark }>(`/portfolios/${id}?v=${version}`);
  const others = useApi<{ portfolios: { id: number; name: string }[] }>('/portfolios');
  const factors = useApi<{ factors: { name: string }[] } | { name: string }[]>('/data/factors');
  const history = useApi<{ rows: HistoryRow[] }>(`/portfolios/${id}/exposures/history${qs({ to: asOf })}`);
  const limits = useApi<{ limits: Limit[]; total: number }>(`/portfolios/${id}/limits?v=${version}`);
  const breaches = useApi<{ breaches: Breach[]; total: number }>(
    `/portfolios/${id}/breaches${qs({ to: asOf, limit: 500 })}&v=${version}`,
  );
  const [active, setActive] = useState(true);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [problem, setProblem] = useState<string | null>(null);
  const factorNames = useMemo(() => {
    const f = factors.data;
    const list = Array.isArray(f) ? f : (f?.factors ?? []);
    return list.map((x) => x.name);
  }, [factors.data]);

  const rows = history.data?.rows ?? [];
  const names = rows.length ? Object.keys(rows.at(-1)!.exposures) : factorNames;
  const option = useMemo(
    () =>
      timeSeriesOption(
        rows.map((r) => r.date),
        names
          .filter((n) => !hidden.has(n))
          .map((n) => ({
            name: n,
            data: rows.map((r) => (active ? r.active_exposures : r.exposures)[n] ?? null),
          })),
        {
          unit: 'beta',
          yName: active ? 'Active exposure' : 'Exposure',
          legend: true,
          zoom: rows.length > 60,
        },
      ),
    [rows, names, hidden, active],
  );
  const teOption = useMemo(
    () =>
      timeSeriesOption(
        rows.map((r) => r.date),
        [{ name: 'Tracking error', data: rows.map((r) => r.tracking_error) }],
        { unit: 'percent', yName: 'Tracking error' },
      ),
    [rows],
  );
  const timeline = useMemo(() => {
    const b = breaches.data?.breaches ?? [];
    const byDate = new Map<string, number>();
    for (const x of b) byDate.set(x.date, (byDate.get(x.date) ?? 0) + 1);
    // every computed date on the axis (a day without a breach is a zero), not only the breached ones
    const dates = [...new Set([...rows.map((r) => r.date), ...byDate.keys()])].sort();
    return timeSeriesOption(
      dates,
      [{ name: 'Breaches', data: dates.map((d) => byDate.get(d) ?? 0), type: 'bar' }],
      { yName: 'Breaches', unit: 'count' },
    );
  }, [breaches.data, rows]);

  const metricOf = new Map(limits.data?.limits.map((l) => [l.id, l.metric]) ?? []);
  const run = async (work: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await work();
      bump();
    } catch (e) {
      setProblem(e instanceof ApiError ? e.message : String(e));
    }
  };
  const [bench, setBench] = useState('');
  const [form, setForm] = useState({ name: '', metric: 'exposure', factor: 'Value', lower: '', upper: '' });
  const num = (s: string) => (s.trim() === '' ? null : Number(s));
  const b = portfolio.data?.benchmark;
  const dateQ = qs({ date: asOf });

  return (
    <div className="active-panel">
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <div className="panel">
        <div className="panel-head">
          <h2>Benchmark</h2>
          <span>
            <a className="button" href={`/api/v1/portfolios/${id}/report.xlsx${dateQ}`} download>
              Excel report
            </a>{' '}
            <a className="button" href={`/api/v1/portfolios/${id}/report.pdf${dateQ}`} download>
              PDF report
            </a>
          </span>
        </div>
        <p data-testid="benchmark">
          {b
            ? b.portfolio_id
              ? `Portfolio ${others.data?.portfolios.find((p) => p.id === b.portfolio_id)?.name ?? b.portfolio_id}`
              : `${b.symbol}${b.default ? ' (default)' : ''}`
            : '…'}
        </p>
        <label className="inline">
          Set to{' '}
          <select aria-label="Benchmark" value={bench} onChange={(e) => setBench(e.target.value)}>
            <option value="">a symbol…</option>
            {others.data?.portfolios
              .filter((p) => p.id !== id)
              .map((p) => (
                <option key={p.id} value={`portfolio:${p.id}`}>
                  portfolio {p.name}
                </option>
              ))}
          </select>{' '}
          {!bench.startsWith('portfolio:') && (
            <input
              aria-label="Benchmark symbol"
              placeholder="SPY"
              onChange={(e) => setBench(e.target.value)}
            />
          )}{' '}
          <button
            type="button"
            onClick={() =>
              run(() =>
                api(`/portfolios/${id}`, {
                  method: 'PATCH',
                  json: {
                    benchmark: bench.startsWith('portfolio:')
                      ? { portfolio_id: Number(bench.slice(10)) }
                      : bench
                        ? { symbol: bench }
                        : null,
                  },
                }),
              )
            }
          >
            Save
          </button>
        </label>
        <p className="muted">Active numbers use the new benchmark from the next computed date on.</p>
      </div>

      <div className="panel">
        <div className="panel-head">
          <h2>Exposure history</h2>
          <label className="inline">
            <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} /> active
            (vs benchmark)
          </label>
        </div>
        <div className="factor-picks">
          {names.map((n) => (
            <label key={n} className="inline">
              <input
                type="checkbox"
                checked={!hidden.has(n)}
                onChange={() => {
                  const h = new Set(hidden);
                  if (h.has(n)) h.delete(n);
                  else h.add(n);
                  setHidden(h);
                }}
              />{' '}
              {n}
            </label>
          ))}
        </div>
        {history.error ? (
          <Failed error={history.error} />
        ) : !history.data ? (
          <Loading what="exposure history" />
        ) : rows.length === 0 ? (
          <Empty>No computed dates yet.</Empty>
        ) : (
          <>
            <Chart option={option} label="Exposure history" height={320} />
            <Chart option={teOption} label="Tracking error" height={200} />
          </>
        )}
      </div>

      <div className="panel">
        <h2>Limits</h2>
        {limits.error ? (
          <Failed error={limits.error} />
        ) : (
          <table className="plain wide" aria-label="Limits">
            <thead>
              <tr>
                <th className="text">Name</th>
                <th className="text">Metric</th>
                <th>Lower</th>
                <th>Upper</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {limits.data?.limits.map((l) => (
                <tr key={l.id}>
                  <td className="text">{l.name}</td>
                  <td className="text">
                    {l.metric}
                    {l.factor ? ` ${l.factor}` : ''}
                    {l.method ? ` ${l.method} ${fmtPct(l.confidence ?? 0, 0)}` : ''}
                  </td>
                  <td className="num">{fmtLimit(l.metric, l.lower)}</td>
                  <td className="num">{fmtLimit(l.metric, l.upper)}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => run(() => api(`/portfolios/${id}/limits/${l.id}`, { method: 'DELETE' }))}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form
          className="limit-form"
          onSubmit={(e) => {
            e.preventDefault();
            const needsFactor = form.metric === 'exposure' || form.metric === 'active_exposure';
            void run(() =>
              api(`/portfolios/${id}/limits`, {
                json: {
                  name: form.name,
                  metric: form.metric,
                  ...(needsFactor ? { factor: form.factor } : {}),
                  lower: num(form.lower),
                  upper: num(form.upper),
                },
              }),
            );
          }}
        >
          <input
            aria-label="Limit name"
            placeholder="name"
            required
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
          <select
            aria-label="Metric"
            value={form.metric}
            onChange={(e) => setForm({ ...form, metric: e.target.value })}
          >
            {METRICS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
          {(form.metric === 'exposure' || form.metric === 'active_exposure') && (
            <select
              aria-label="Factor"
              value={form.factor}
              onChange={(e) => setForm({ ...form, factor: e.target.value })}
            >
              {factorNames.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
          )}
          <input
            aria-label="Lower"
            placeholder="lower"
            value={form.lower}
            onChange={(e) => setForm({ ...form, lower: e.target.value })}
          />
          <input
            aria-label="Upper"
            placeholder="upper"
            value={form.upper}
            onChange={(e) => setForm({ ...form, upper: e.target.value })}
          />
          <button type="submit">Add limit</button>
        </form>
        <p className="muted">
          A new or edited limit is checked from the next computed date on; past dates are not recomputed.
        </p>
      </div>

      <div className="panel">
        <h2>Breaches {breaches.data ? `(${breaches.data.total})` : ''}</h2>
        {breaches.data && breaches.data.breaches.length > 0 ? (
          <>
            <Chart option={timeline} label="Breach timeline" height={180} />
            <table className="plain wide" aria-label="Breaches">
              <thead>
                <tr>
                  <th className="text">Date</th>
                  <th className="text">Limit</th>
                  <th>Value</th>
                  <th>Lower</th>
                  <th>Upper</th>
                </tr>
              </thead>
              <tbody>
                {breaches.data.breaches.slice(0, 50).map((x) => (
                  <tr key={`${x.limit_id} ${x.date}`}>
                    <td className="text">{x.date}</td>
                    <td className="text">{x.name}</td>
                    <td className="num">{fmtLimit(metricOf.get(x.limit_id), x.value)}</td>
                    <td className="num">{fmtLimit(metricOf.get(x.limit_id), x.lower)}</td>
                    <td className="num">{fmtLimit(metricOf.get(x.limit_id), x.upper)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <Empty>No breaches in the range.</Empty>
        )}
      </div>
    </div>
  );
}
