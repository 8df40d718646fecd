import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { ExposureBars, type Exposure } from '../components/ExposureBars.tsx';
import { Empty, Failed } from '../components/States.tsx';
import { fmtNum, fmtPct, fmtPrice, fmtUsd, signClass } from '../format.ts';

/** An editable position: text as typed, converted when the book is sent. */
interface EditRow {
  symbol: string;
  position_type: string;
  quantity: string;
  underlying_symbol: string;
  strike_price: string;
  expiration_date: string;
  implied_volatility: string;
}
const FIELDS: (keyof EditRow)[] = [
  'symbol',
  'position_type',
  'quantity',
  'underlying_symbol',
  'strike_price',
  'expiration_date',
  'implied_volatility',
];
const LABELS: Record<keyof EditRow, string> = {
  symbol: 'Symbol',
  position_type: 'Type',
  quantity: 'Quantity',
  underlying_symbol: 'Underlying',
  strike_price: 'Strike',
  expiration_date: 'Expiry',
  implied_volatility: 'Impl. vol',
};
const TYPES = ['LONG', 'SHORT', 'LC', 'LP', 'SC', 'SP'];
const blank = (): EditRow => ({
  symbol: '',
  position_type: 'LONG',
  quantity: '',
  underlying_symbol: '',
  strike_price: '',
  expiration_date: '',
  implied_volatility: '',
});

interface Result {
  date: string;
  betas_date: string | null;
  equity: number;
  exposures: Exposure[];
  positions: {
    symbol: string;
    price: number | null;
    delta: number | null;
    exposure: number | null;
    weight: number | null;
    expired: boolean;
  }[];
  stress: { scenario: string; pnl: number | null }[];
}

/** Parses a portfolio CSV (the import's columns; others are ignored). */
export function parseCsv(text: string): EditRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const header = lines[0]!.split(',').map((h) => h.trim().toLowerCase());
  return lines.slice(1).map((line) => {
    const cells = line.split(',').map((c) => c.trim());
    const row = blank();
    header.forEach((h, i) => {
      if ((FIELDS as string[]).includes(h)) row[h as keyof EditRow] = cells[i] ?? '';
    });
    row.position_type = row.position_type.toUpperCase() || 'LONG';
    return row;
  });
}

/** Converts the typed rows to the API's positions; a row that cannot be converted gets its error here. */
function toPositions(rows: EditRow[]): {
  positions: Record<string, unknown>[];
  index: number[];
  errors: Map<number, string>;
} {
  const errors = new Map<number, string>();
  const positions: Record<string, unknown>[] = [];
  const index: number[] = [];
  rows.forEach((r, i) => {
    if (FIELDS.every((f) => f === 'position_type' || r[f].trim() === '')) return; // an empty row is skipped
    const p: Record<string, unknown> = { position_type: r.position_type };
    const num = (f: keyof EditRow, key: string) => {
      if (r[f].trim() === '') return;
      const v = Number(r[f]);
      if (!Number.isFinite(v)) errors.set(i, `${LABELS[f].toLowerCase()} "${r[f]}" is not a number`);
      else p[key] = v;
    };
    if (r.symbol.trim()) p.symbol = r.symbol.trim();
    if (r.quantity.trim() === '') errors.set(i, 'quantity is missing');
    num('quantity', 'quantity');
    num('strike_price', 'strike_price');
    num('implied_volatility', 'implied_volatility');
    if (r.underlying_symbol.trim()) p.underlying_symbol = r.underlying_symbol.trim();
    if (r.expiration_date.trim()) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(r.expiration_date.trim()))
        errors.set(i, 'expiry must be a date YYYY-MM-DD');
      else p.expiration_date = r.expiration_date.trim();
    }
    if (!TYPES.includes(r.position_type)) errors.set(i, `type must be one of ${TYPES.join(', ')}`);
    index.push(i);
    positions.push(p);
  });
  return { positions, index, errors };
}

/** The rows a 400 names: `details` as [{index, message}] (the route's checks) or [{path: '/positions/3/…'}]. */
function rowErrors(e: ApiError, index: number[]): Map<number, string> {
  const out = new Map<number, string>();
  const details = Array.isArray(e.details)
    ? (e.details as { index?: number; path?: string; field?: string; message?: string }[])
    : [];
  for (const d of details) {
    const sent = d.index ?? Number(d.path?.match(/^\/positions\/(\d+)/)?.[1] ?? NaN);
    if (!Number.isInteger(sent)) continue;
    const row = index[sent] ?? sent;
    const field = d.field ?? d.path?.split('/')[3];
    if (!out.has(row)) out.set(row, `${field ? `${field}: ` : ''}${d.message ?? 'invalid'}`);
  }
  const m = e.message.match(/positions\/(\d+)/);
  if (out.size === 0 && m) out.set(index[Number(m[1])] ?? Number(m[1]), e.message);
  return out;
}

const SAMPLE = `symbol,position_type,quantity
SPY,LONG,100
IWM,SHORT,-50`;

/** What-if: a hypothetical book, pasted, uploaded or edited; results follow every edit. */
export default function WhatIf() {
  const [rows, setRows] = useState<EditRow[]>(() => [...parseCsv(SAMPLE), blank()]);
  const [equity, setEquity] = useState('1000000');
  const [csv, setCsv] = useState('');
  const [result, setResult] = useState<Result | null>(null);
  const [errors, setErrors] = useState<Map<number, string>>(new Map());
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  useEffect(() => {
    const t = setTimeout(() => {
      const { positions, index, errors: local } = toPositions(rows);
      setErrors(local);
      setFailure(null);
      if (local.size > 0 || positions.length === 0) {
        if (positions.length === 0) setResult(null);
        return;
      }
      const eq = Number(equity);
      if (!(eq > 0)) {
        setFailure(new Error('Equity must be a positive number.'));
        return;
      }
      const mine = ++seq.current;
      setBusy(true);
      api<Result>('/analytics/what-if', { json: { positions, equity: eq } }).then(
        (r) => {
          if (mine !== seq.current) return;
          setResult(r);
          setBusy(false);
        },
        (e: unknown) => {
          if (mine !== seq.current) return;
          setBusy(false);
          if (e instanceof ApiError && e.status === 400) {
            const byRow = rowErrors(e, index);
            if (byRow.size > 0) setErrors(byRow);
            else setFailure(e);
          } else setFailure(e);
        },
      );
    }, 300);
    return () => clearTimeout(t);
  }, [rows, equity]);

  const edit = (i: number, f: keyof EditRow, v: string) =>
    setRows((rs) => {
      const next = rs.map((r, j) => (j === i ? { ...r, [f]: v } : r));
      // a spare empty row is always at the end
      const lastRow = next.at(-1)!;
      if (FIELDS.some((x) => x !== 'position_type' && lastRow[x] !== '')) next.push(blank());
      return next;
    });
  const load = (text: string) => {
    const parsed = parseCsv(text);
    if (parsed.length > 0) setRows([...parsed, blank()]);
  };
  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (file) load(await file.text());
  };

  return (
    <section className="what-if">
      <h1>What-if</h1>
      <div className="columns">
        <div className="panel">
          <h2>Book</h2>
          <div className="toolbar">
            <label className="inline">
              Equity $
              <input
                aria-label="Equity"
                type="number"
                min={1}
                style={{ width: 130 }}
                value={equity}
                onChange={(e) => setEquity(e.target.value)}
              />
            </label>
            <label className="inline file">
              Upload CSV <input type="file" accept=".csv,text/csv" onChange={upload} />
            </label>
          </div>
          <details>
            <summary>Paste CSV</summary>
            <textarea
              aria-label="Portfolio CSV"
              rows={6}
              value={csv}
              placeholder={SAMPLE}
              onChange={(e) => setCsv(e.target.value)}
            />
            <button type="button" onClick={() => load(csv)}>
              Use this CSV
            </button>
          </details>
          <div className="table-scroll">
            <table className="plain edit" aria-label="Positions">
              <thead>
                <tr>
                  <th>#</th>
                  {FIELDS.map((f) => (
                    <th key={f} className="text">
                      {LABELS[f]}
                    </th>
                  ))}
                  <th />
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => {
                  const error = errors.get(i);
                  return [
                    <tr key={`r${i}`} data-row={i} className={error ? 'has-error' : ''}>
                      <td className="num muted">{i + 1}</td>
                      {FIELDS.map((f) => (
                        <td key={f}>
                          {f === 'position_type' ? (
                            <select
                              aria-label={`${LABELS[f]} row ${i + 1}`}
                              value={r[f]}
                              onChange={(e) => edit(i, f, e.target.value)}
                            >
                              {TYPES.map((t) => (
                                <option key={t}>{t}</option>
                              ))}
                            </select>
                          ) : (
                            <input
                              aria-label={`${LABELS[f]} row ${i + 1}`}
                              value={r[f]}
                              type={f === 'expiration_date' ? 'date' : 'text'}
                              inputMode={
                                f === 'quantity' || f === 'strike_price' || f === 'implied_volatility'
                                  ? 'decimal'
                                  : undefined
                              }
                              onChange={(e) => edit(i, f, e.target.value)}
                            />
                          )}
                        </td>
                      ))}
                      <td>
                        <button
                          type="button"
                          aria-label={`Remove row ${i + 1}`}
                          onClick={() =>
                            setRows((rs) => (rs.length > 1 ? rs.filter((_, j) => j !== i) : [blank()]))
                          }
                        >
                          ×
                        </button>
                      </td>
                    </tr>,
                    error ? (
                      <tr key={`e${i}`} className="row-error" data-error-row={i}>
                        <td />
                        <td colSpan={FIELDS.length + 1} role="alert">
                          Row {i + 1}: {error}
                        </td>
                      </tr>
                    ) : null,
                  ];
                })}
              </tbody>
            </table>
          </div>
        </div>
        <div className="panel">
          <h2>
            Exposures {busy && <span className="muted">updating…</span>}
            {result && <span className="muted"> betas of {result.betas_date ?? '—'}</span>}
          </h2>
          {failure ? <Failed error={failure} /> : null}
          {!result ? (
            <Empty>Add positions to see their exposures.</Empty>
          ) : (
            <div className={errors.size > 0 ? 'stale' : ''}>
              <ExposureBars exposures={result.exposures} />
              <h2>Positions</h2>
              <table className="plain wide" aria-label="What-if positions">
                <thead>
                  <tr>
                    <th className="text">Symbol</th>
                    <th>Price</th>
                    <th>Delta</th>
                    <th>Exposure</th>
                    <th>Weight</th>
                  </tr>
                </thead>
                <tbody>
                  {result.positions.map((p, i) => (
                    <tr key={i}>
                      <td className="text">
                        {p.symbol}
                        {p.expired && <span className="muted"> (expired)</span>}
                      </td>
                      <td className="num">{fmtPrice(p.price)}</td>
                      <td className="num">{fmtNum(p.delta)}</td>
                      <td className="num">{fmtUsd(p.exposure)}</td>
                      <td className="num">{fmtPct(p.weight)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <h2>Stress</h2>
              <table className="plain wide" aria-label="What-if stress">
                <tbody>
                  {result.stress.map((s) => (
                    <tr key={s.scenario}>
                      <td className="text">{s.scenario}</td>
                      <td className={`num ${signClass(s.pnl ?? 0)}`}>
                        {s.pnl === null ? 'n/a' : fmtUsd(s.pnl)}
                      </td>
                      <td className={`num ${signClass(s.pnl ?? 0)}`}>
                        {s.pnl === null ? '' : fmtPct(s.pnl / result.equity)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
