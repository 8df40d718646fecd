import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { ExposureBars, type Exposure } from '../components/ExposureBars.tsx';
import { Empty, Failed } from '../components/States.tsx';
import { StressTable, type StressResult } from '../components/StressTable.tsx';
import { VarTable } from '../components/VarTable.tsx';
import { fmtLimit, fmtNum, fmtPct, fmtPrice, fmtUsd } from '../format.ts';
import { useApi } from '../useApi.ts';

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
  stress: StressResult[];
  risk: {
    total_risk: number;
    factor_risk: number;
    specific_risk: number;
    total_risk_dollars: number;
    factor_risk_dollars: number;
    specific_risk_dollars: number;
  } | null;
  var: {
    parametric: Record<'var_95' | 'es_95' | 'var_99' | 'es_99', number>;
    historical: Record<'var_95' | 'es_95' | 'var_99' | 'es_99', number> & { days: number };
  } | null;
  hedges: {
    factor_risk_before: number;
    factor_risk_after: number;
    etfs: { symbol: string; notional: number }[];
    market_hedge: { symbol: string; notional: number; beta: number } | null;
  } | null;
  /** Present when a portfolio was chosen: its limits evaluated on the proposed book (METHODOLOGY §15). */
  limits?: LimitState[];
}
interface LimitState {
  id: number;
  name: string;
  metric: string;
  factor: string | null;
  lower: number | null;
  upper: number | null;
  value: number | null;
  breached: boolean;
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

const SYMBOL = /^[A-Za-z0-9^][A-Za-z0-9.\-^=_/ ]{0,31}$/;
/** A real calendar date written YYYY-MM-DD (2026-02-30 is not one). */
export function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * Converts the typed rows to the API's positions. Every problem a row has is said here, in plain
 * words; the rows without one are sent (the server's rules name theirs), so all bad rows show at once.
 */
function toPositions(rows: EditRow[]): {
  positions: Record<string, unknown>[];
  index: number[];
  errors: Map<number, string[]>;
} {
  const errors = new Map<number, string[]>();
  const say = (i: number, m: string) => errors.set(i, [...(errors.get(i) ?? []), m]);
  const positions: Record<string, unknown>[] = [];
  const index: number[] = [];
  rows.forEach((r, i) => {
    if (FIELDS.every((f) => f === 'position_type' || r[f].trim() === '')) return; // an empty row is skipped
    const p: Record<string, unknown> = { position_type: r.position_type };
    const num = (f: keyof EditRow, key: string, positive: boolean) => {
      const text = r[f].trim();
      if (text === '') return;
      const v = Number(text);
      if (!Number.isFinite(v)) say(i, `${LABELS[f]} "${text}" is not a number`);
      else if (positive && !(v > 0)) say(i, `${LABELS[f]} must be above zero, got ${text}`);
      else p[key] = v;
    };
    const symbol = r.symbol.trim();
    if (symbol && !SYMBOL.test(symbol)) say(i, `Symbol "${symbol}" has characters a symbol cannot have`);
    else if (symbol) p.symbol = symbol;
    if (r.quantity.trim() === '') say(i, 'Quantity is missing');
    num('quantity', 'quantity', false);
    num('strike_price', 'strike_price', true);
    num('implied_volatility', 'implied_volatility', true);
    const underlying = r.underlying_symbol.trim();
    if (underlying && !SYMBOL.test(underlying))
      say(i, `Underlying "${underlying}" has characters a symbol cannot have`);
    else if (underlying) p.underlying_symbol = underlying;
    const expiry = r.expiration_date.trim();
    if (expiry) {
      if (!isIsoDate(expiry))
        say(i, `Expiry "${expiry}" is not a date (write it YYYY-MM-DD, e.g. 2026-12-18)`);
      else p.expiration_date = expiry;
    }
    if (!TYPES.includes(r.position_type)) say(i, `Type must be one of ${TYPES.join(', ')}`);
    if (errors.has(i)) return;
    index.push(i);
    positions.push(p);
  });
  return { positions, index, errors };
}

const FIELD_WORDS: Record<string, string> = {
  symbol: 'Symbol',
  position_type: 'Type',
  quantity: 'Quantity',
  underlying_symbol: 'Underlying',
  strike_price: 'Strike',
  expiration_date: 'Expiry',
  implied_volatility: 'Implied volatility',
  multiplier: 'Multiplier',
};
/** A server message in plain words: no schema jargon (`must match format "date"`). */
export function plainWords(field: string | undefined, message: string): string {
  const what = field ? (FIELD_WORDS[field] ?? field) : '';
  const m = message
    .replace(/^must match format "date"$/, 'is not a date (write it YYYY-MM-DD)')
    .replace(/^must match pattern .*$/, 'has characters it cannot have')
    .replace(/^must be (<=|>=|<|>) (.*)$/, (_, op: string, v: string) =>
      op.startsWith('<') ? `must be at most ${v}` : `must be at least ${v}`,
    )
    .replace(/^must be number$/, 'must be a number');
  return what ? `${what}: ${m}` : m;
}

/** The rows a 400 names, every one: `details` as [{index, field, message}] or [{path: '/positions/3/…'}]. */
function rowErrors(e: ApiError, index: number[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const add = (row: number, m: string) => out.set(row, [...(out.get(row) ?? []), m]);
  const details = Array.isArray(e.details)
    ? (e.details as { index?: number; path?: string; field?: string; message?: string }[])
    : [];
  for (const d of details) {
    const sent = d.index ?? Number(d.path?.match(/^\/positions\/(\d+)/)?.[1] ?? NaN);
    if (!Number.isInteger(sent)) continue;
    const field = d.field ?? d.path?.split('/')[3];
    add(index[sent] ?? sent, plainWords(field, d.message ?? 'is not valid'));
  }
  const m = e.message.match(/positions\/(\d+)\/?(\w*)"?:? ?(.*)$/);
  if (out.size === 0 && m)
    add(index[Number(m[1])] ?? Number(m[1]), plainWords(m[2] || undefined, m[3] ?? e.message));
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
  const [errors, setErrors] = useState<Map<number, string[]>>(new Map());
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [limitsOf, setLimitsOf] = useState('');
  const portfolios = useApi<{ portfolios: { id: number; name: string }[] }>('/portfolios');
  const seq = useRef(0);

  useEffect(() => {
    const t = setTimeout(() => {
      const { positions, index, errors: local } = toPositions(rows);
      setFailure(null);
      // Results are of the whole book or not at all: a bad row clears them (no stale, faded figures).
      if (local.size > 0) setResult(null);
      setErrors(local);
      if (positions.length === 0) {
        setResult(null);
        return;
      }
      const eq = Number(equity);
      if (!(eq > 0)) {
        setResult(null);
        setFailure(new Error('Equity must be a positive number.'));
        return;
      }
      const mine = ++seq.current;
      setBusy(true);
      // the good rows go to the server even when others are bad: its rules name their problems too
      const json = { positions, equity: eq, ...(limitsOf && { portfolio_id: Number(limitsOf) }) };
      api<Result>('/analytics/what-if', { json }).then(
        (r) => {
          if (mine !== seq.current) return;
          setBusy(false);
          if (local.size === 0) setResult(r);
        },
        (e: unknown) => {
          if (mine !== seq.current) return;
          setBusy(false);
          setResult(null);
          if (e instanceof ApiError && e.status === 400) {
            const byRow = rowErrors(e, index);
            if (byRow.size > 0) {
              const merged = new Map(local);
              for (const [row, ms] of byRow) merged.set(row, [...(merged.get(row) ?? []), ...ms]);
              setErrors(merged);
            } else setFailure(e);
          } else setFailure(e);
        },
      );
    }, 300);
    return () => clearTimeout(t);
  }, [rows, equity, limitsOf]);

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
            <label className="inline">
              Limits of
              <select
                aria-label="Limits of portfolio"
                value={limitsOf}
                onChange={(e) => setLimitsOf(e.target.value)}
              >
                <option value="">none</option>
                {portfolios.data?.portfolios.map((p) => (
                  <option key={p.id} value={String(p.id)}>
                    {p.name}
                  </option>
                ))}
              </select>
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
                              type="text"
                              placeholder={f === 'expiration_date' ? 'YYYY-MM-DD' : undefined}
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
                          Row {i + 1}: {error.join('; ')}
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
          {errors.size > 0 ? (
            <div className="state error" data-testid="what-if-blocked">
              {errors.size === 1 ? 'One row has' : `${errors.size} rows have`} a problem (marked in the book):
              results appear when every row is valid.
            </div>
          ) : !result ? (
            busy ? null : (
              <Empty>Add positions to see their exposures.</Empty>
            )
          ) : (
            <WhatIfResults result={result} />
          )}
        </div>
      </div>
    </section>
  );
}

/** The book's results: exposures, positions, risk, VaR, stress and hedges (the route's whole answer). */
function WhatIfResults({ result }: { result: Result }) {
  return (
    <div data-testid="what-if-results">
      {result.limits && <WhatIfLimits limits={result.limits} />}
      <ExposureBars exposures={result.exposures} />
      <h2>Positions</h2>
      <div className="table-scroll">
        <table className="plain wide" aria-label="What-if positions">
          <thead>
            <tr>
              <th className="text">Symbol</th>
              <th title="a stock's close, or an option's underlying close">Price</th>
              <th>Delta</th>
              <th title="delta-adjusted dollar exposure">Δ-adj. exposure</th>
              <th>Weight</th>
            </tr>
          </thead>
          <tbody>
            {result.positions.map((p, i) => (
              <tr key={i}>
                <td className="text">
                  {p.symbol}
                  {p.expired && <span className="badge badge-expired"> expired</span>}
                </td>
                <td className="num">{fmtPrice(p.price)}</td>
                <td className="num">{fmtNum(p.delta)}</td>
                <td className="num">{fmtUsd(p.exposure)}</td>
                <td className="num">{fmtPct(p.weight)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Risk</h2>
      {!result.risk ? (
        <Empty>No risk model for this date: risk, VaR and hedges cannot be computed.</Empty>
      ) : (
        <table className="plain wide" aria-label="What-if risk">
          <thead>
            <tr>
              <th className="text">Annualised</th>
              <th>Of equity</th>
              <th>Dollars</th>
            </tr>
          </thead>
          <tbody>
            {(
              [
                ['Total risk', result.risk.total_risk, result.risk.total_risk_dollars],
                ['Factor risk', result.risk.factor_risk, result.risk.factor_risk_dollars],
                ['Specific risk', result.risk.specific_risk, result.risk.specific_risk_dollars],
              ] as const
            ).map(([label, pct, usd]) => (
              <tr key={label}>
                <td className="text">{label}</td>
                <td className="num">{fmtPct(pct)}</td>
                <td className="num">{fmtUsd(usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result.var && (
        <>
          <h2>Value at risk, one day</h2>
          <VarTable
            label="What-if VaR"
            parametric={result.var.parametric}
            historical={result.var.historical}
          />
        </>
      )}
      <h2>Stress</h2>
      <StressTable results={result.stress} />
      {result.hedges && (
        <>
          <h2>Hedges</h2>
          <p className="muted small">
            Factor risk {fmtPct(result.hedges.factor_risk_before)} before,{' '}
            {fmtPct(result.hedges.factor_risk_after)} after the ETF basket. The basket and the market-only
            hedge are alternatives.
          </p>
          <table className="plain wide" aria-label="What-if hedges">
            <tbody>
              {result.hedges.etfs.map((e) => (
                <tr key={e.symbol}>
                  <td className="text">Basket</td>
                  <td className="text">{e.symbol}</td>
                  <td className="num">{fmtUsd(e.notional)}</td>
                </tr>
              ))}
              {result.hedges.market_hedge && (
                <tr>
                  <td className="text">Or: market only</td>
                  <td className="text">{result.hedges.market_hedge.symbol}</td>
                  <td className="num">{fmtUsd(result.hedges.market_hedge.notional)}</td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

/** Both bounds in one cell: "-0.5000 to 0.5000", "≤ $40,000" or "≥ 0.1000". */
const bounds = (l: LimitState) =>
  l.lower !== null && l.upper !== null
    ? `${fmtLimit(l.metric, l.lower)} to ${fmtLimit(l.metric, l.upper)}`
    : l.upper !== null
      ? `≤ ${fmtLimit(l.metric, l.upper)}`
      : `≥ ${fmtLimit(l.metric, l.lower)}`;

/** A limit's metric in a few words (the half-width panel has no room for `active_exposure Market Beta`). */
const metricLabel = (l: LimitState) =>
  l.metric === 'exposure'
    ? (l.factor ?? 'exposure')
    : l.metric === 'active_exposure'
      ? `${l.factor ?? 'exposure'} (active)`
      : ({
          total_risk: 'total risk',
          tracking_error: 'tracking error',
          var: 'VaR',
          max_position_weight: 'max weight',
        }[l.metric] ?? l.metric);

/** The chosen portfolio's limits evaluated on the proposed book: which ones it would breach. */
function WhatIfLimits({ limits }: { limits: LimitState[] }) {
  const breached = limits.filter((l) => l.breached).length;
  return (
    <>
      <h2>
        Limits{' '}
        <span className="muted" data-testid="what-if-breach-count">
          {limits.length === 0
            ? 'this portfolio has none'
            : breached === 0
              ? 'none breached'
              : `${breached} of ${limits.length} breached`}
        </span>
      </h2>
      {limits.length > 0 && (
        <div className="table-scroll">
          <table className="plain wide" aria-label="What-if limits">
            <thead>
              <tr>
                <th className="text">Name</th>
                <th className="text">Metric</th>
                <th>Value</th>
                <th>Bounds</th>
                <th className="text">State</th>
              </tr>
            </thead>
            <tbody>
              {limits.map((l) => (
                <tr key={l.id} className={l.breached ? 'breached' : ''}>
                  <td className="text">{l.name}</td>
                  <td className="text">{metricLabel(l)}</td>
                  <td className="num">{l.value === null ? '—' : fmtLimit(l.metric, l.value)}</td>
                  <td className="num">{bounds(l)}</td>
                  <td className="text">
                    {l.breached ? (
                      <span className="badge badge-breach">breached</span>
                    ) : l.value === null ? (
                      <span className="muted">no value</span>
                    ) : (
                      'within'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
