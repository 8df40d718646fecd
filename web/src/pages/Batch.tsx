import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { Empty, Failed, Loading } from '../components/States.tsx';
import { fmtInt } from '../format.ts';

/** A run as the pipeline's routes describe it (GET /api/v1/batch/runs). */
interface Run {
  id: string;
  kind: string;
  from_date: string | null;
  to_date: string | null;
  status: string;
  created_at: string | null;
  finished_at: string | null;
  /** Jobs (stage × date block × partition) finished, of those enqueued so far. */
  jobs_done: number;
  jobs_total: number;
  error: string | null;
  first_trading_day?: string | null;
  last_trading_day?: string | null;
}
interface Partition {
  partition: number;
  state: string;
  attempts: number;
  duration_ms: number | null;
  error: string | null;
}
interface RunDetail extends Run {
  stages: { date: string; stage: string; partitions: Partition[] }[];
}
const ACTIVE = new Set(['queued', 'running']);
/** Refresh every second while a run is under way (a daily run finishes in seconds), else every 5 s. */
const FAST_MS = 1000;
const SLOW_MS = 5000;

/** The dates a run covers: the trading days it resolved, else the dates asked for. */
function runDates(r: Run): string {
  const first = r.first_trading_day ?? r.from_date;
  const last = r.last_trading_day ?? r.to_date;
  if (!first) return '—';
  return first === last ? first : `${first} → ${last}`;
}

const stateClass = (s: string) =>
  s === 'failed' ? 'neg' : s === 'running' || s === 'active' ? 'warn' : s === 'completed' ? 'pos' : '';

/** Batch runs (admins): their stages and progress, failures with messages; start a run for a date. */
export default function Batch({ admin }: { admin: boolean }) {
  const [list, setList] = useState<{ runs: Run[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [date, setDate] = useState('');
  const [message, setMessage] = useState<{ text: string; run: string | null } | null>(null);

  const refresh = useCallback(() => {
    api<{ runs: Run[] }>('/batch/runs').then(
      (a) => {
        setList(a);
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  }, []);
  const active = list?.runs.some((r) => ACTIVE.has(r.status)) ?? false;
  useEffect(() => {
    if (!admin) return; // the routes are for admins: a non-admin asks nothing (no 403 every few seconds)
    refresh();
    const t = setInterval(refresh, active ? FAST_MS : SLOW_MS);
    return () => clearInterval(t);
  }, [refresh, admin, active]);

  useEffect(() => {
    if (!selected || !admin) return setDetail(null);
    api<RunDetail>(`/batch/runs/${encodeURIComponent(selected)}`).then(setDetail, () => setDetail(null));
  }, [selected, list, admin]);

  // Jobs are enqueued as stages become ready, so done/total can fall when a stage fans out: the bar
  // shows the furthest fraction seen for the run (never backwards), and full once it completed.
  const furthest = useRef(new Map<string, number>());
  const progressOf = (r: Run) => {
    if (r.status === 'completed') return 1;
    const now = r.jobs_total ? r.jobs_done / r.jobs_total : 0;
    const shown = Math.max(now, furthest.current.get(r.id) ?? 0);
    furthest.current.set(r.id, shown);
    return shown;
  };

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setMessage(null);
    try {
      const r = await api<{ id?: string; run_id?: string; date?: string }>('/batch/runs', {
        json: date ? { date } : {},
      });
      setMessage({ text: `Run started${r.date ? ` for ${r.date}` : ''}.`, run: r.id ?? r.run_id ?? null });
      setSelected(r.id ?? r.run_id ?? null);
      refresh();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        const d = err.details as { run_id?: string; id?: string } | null;
        const id = d?.run_id ?? d?.id ?? null;
        setMessage({ text: 'A run for this date is already under way.', run: id });
        if (id) setSelected(id);
      } else setMessage({ text: err instanceof Error ? err.message : String(err), run: null });
    }
  };

  if (!admin) return <Empty>The batch page is for administrators.</Empty>;
  return (
    <section className="batch">
      <h1>Batch</h1>
      <form className="toolbar" onSubmit={start}>
        <label className="inline">
          Date{' '}
          <input type="date" aria-label="Run date" value={date} onChange={(e) => setDate(e.target.value)} />
        </label>
        <button type="submit">Start a run</button>
        {message && (
          <span role="status" data-testid="batch-message">
            {message.text}{' '}
            {message.run && (
              <button type="button" className="link" onClick={() => setSelected(message.run)}>
                Show run {message.run.slice(0, 8)}
              </button>
            )}
          </span>
        )}
      </form>
      {error ? <Failed error={error} /> : null}
      {!list ? (
        error ? null : (
          <Loading what="runs" />
        )
      ) : list.runs.length === 0 ? (
        <Empty>No runs yet.</Empty>
      ) : (
        <div className="columns">
          <div className="panel table-scroll runs">
            <table className="plain wide" aria-label="Runs">
              <thead>
                <tr>
                  <th className="text">Run</th>
                  <th className="text">Dates</th>
                  <th className="text">Status</th>
                  <th>Progress</th>
                  <th className="text">Started</th>
                </tr>
              </thead>
              <tbody>
                {list.runs.map((r) => {
                  const pct = progressOf(r);
                  return (
                    <tr
                      key={r.id}
                      className={r.id === selected ? 'active' : ''}
                      data-run={r.id}
                      tabIndex={0}
                      onClick={() => setSelected(r.id)}
                      onKeyDown={(e) => e.key === 'Enter' && setSelected(r.id)}
                    >
                      <td className="text" title={r.id}>
                        {r.kind} {r.id.slice(0, 8)}
                      </td>
                      <td className="text" data-testid="run-dates">
                        {runDates(r)}
                      </td>
                      <td className={`text ${stateClass(r.status)}`}>
                        {r.status}
                        {r.error && <div className="muted small">{r.error}</div>}
                      </td>
                      <td className="num">
                        <progress max={1} value={pct} aria-label="progress" data-value={pct} />{' '}
                        <span className="small">
                          {r.jobs_done}/{r.jobs_total} jobs
                        </span>
                      </td>
                      <td className="text started">
                        {r.created_at
                          ? new Date(r.created_at).toLocaleString(undefined, {
                              dateStyle: 'short',
                              timeStyle: 'short',
                            })
                          : '—'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div className="panel">
            <h2>Stages</h2>
            {!selected ? (
              <Empty>Choose a run to see its stages.</Empty>
            ) : !detail ? (
              <Loading what="stages" />
            ) : (
              <table className="plain" aria-label="Stages">
                <thead>
                  <tr>
                    <th className="text">Date</th>
                    <th className="text">Stage</th>
                    <th className="text">Partition</th>
                    <th className="text">State</th>
                    <th>Tries</th>
                    <th>ms</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.stages.flatMap((s) =>
                    s.partitions.map((p) => (
                      <tr key={`${s.date}${s.stage}${p.partition}`}>
                        <td className="text">{s.date}</td>
                        <td className="text">{s.stage}</td>
                        <td className="text">{p.partition}</td>
                        <td className={`text ${stateClass(p.state)}`}>
                          {p.state}
                          {p.error && <div className="small">{p.error}</div>}
                        </td>
                        <td className="num">{p.attempts}</td>
                        <td className="num">{fmtInt(p.duration_ms)}</td>
                      </tr>
                    )),
                  )}
                </tbody>
              </table>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
