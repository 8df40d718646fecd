import { useMemo, useState, type ReactNode } from 'react';
import { qs } from '../api.ts';
import { Chart, timeSeriesOption } from '../components/Chart.tsx';
import { Empty, Failed, Loading } from '../components/States.tsx';
import { COLUMNS, formatCell } from '../columns.ts';
import { betaColor, daysBefore, fmtBeta, fmtCompactUsd, fmtInt, fmtNum } from '../format.ts';
import { useApi } from '../useApi.ts';

interface Detail {
  symbol: string;
  metrics_date: string | null;
  metrics: Record<string, string | number | null> | null;
  company: Record<string, string | number | null> | null;
  betas_date: string | null;
  betas: {
    factor: string;
    beta: number;
    r_squared: number | null;
    observations: number;
    quality_flag: string;
  }[];
  history: { date: string; factor: string; beta: number; r_squared: number | null }[];
}
interface Prices {
  dates: string[];
  closes: number[];
}

const RANGES = [
  ['1M', 31],
  ['3M', 92],
  ['6M', 183],
  ['1Y', 366],
  ['5Y', 1827],
  ['All', 0],
] as const;

/** One symbol: price chart with a range selector, beta history by factor, today's betas, metrics and profile. */
export default function SymbolPage({ symbol }: { symbol: string }) {
  const [range, setRange] = useState<(typeof RANGES)[number][0]>('1Y');
  const detail = useApi<Detail>(`/data/symbols/${encodeURIComponent(symbol)}`);
  const factorDefs = useApi<{ factors: { name: string; method: string }[] }>('/data/factors');
  const to = detail.data?.metrics_date ?? detail.data?.betas_date ?? null;
  const days = RANGES.find((r) => r[0] === range)![1];
  const prices = useApi<Prices>(
    to
      ? `/data/symbols/${encodeURIComponent(symbol)}/prices${qs({ from: days ? daysBefore(to, days) : undefined, to })}`
      : null,
  );
  const historyFrom = to ? daysBefore(to, 365) : null;
  const history = useApi<Detail>(
    to && historyFrom ? `/data/symbols/${encodeURIComponent(symbol)}${qs({ from: historyFrom, to })}` : null,
  );
  const factors = useMemo(() => detail.data?.betas.map((b) => b.factor) ?? [], [detail.data]);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const shown = chosen ?? factors.slice(0, 3);

  const priceOption = useMemo(
    () =>
      prices.data &&
      timeSeriesOption(prices.data.dates, [{ name: symbol, data: prices.data.closes, area: true }], {
        zoom: true,
        unit: 'usd',
        yName: 'Close (USD)',
      }),
    [prices.data, symbol],
  );
  const betaOption = useMemo(() => {
    const h = history.data?.history;
    if (!h) return undefined;
    const dates = [...new Set(h.map((x) => x.date))];
    const at = new Map(dates.map((d, i) => [d, i]));
    const series = shown.map((f) => {
      const data: (number | null)[] = new Array<number | null>(dates.length).fill(null);
      for (const x of h) if (x.factor === f) data[at.get(x.date)!] = x.beta;
      return { name: f, data };
    });
    return timeSeriesOption(dates, series, { legend: true, unit: 'beta', yName: 'Beta' });
  }, [history.data, shown]);

  if (detail.error) return <Failed error={detail.error} />;
  if (!detail.data) return <Loading what={symbol} />;
  const d = detail.data;
  const m = d.metrics;
  const company = d.company;
  return (
    <section className="symbol-page">
      <h1>
        {d.symbol}{' '}
        <span className="muted">{(m?.company_name ?? company?.company_name) as string | null}</span>
      </h1>
      <p className="muted">
        {[m?.sector ?? company?.sector, m?.industry ?? company?.industry].filter(Boolean).join(' · ')}
        {d.metrics_date && ` · metrics of ${d.metrics_date}`}
      </p>

      <div className="panel">
        <div className="panel-head">
          <h2>Price</h2>
          <div className="segmented" role="group" aria-label="Price range">
            {RANGES.map(([r]) => (
              <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
                {r}
              </button>
            ))}
          </div>
        </div>
        {prices.error ? (
          <Failed error={prices.error} />
        ) : !priceOption ? (
          <Loading what="prices" />
        ) : prices.data!.dates.length === 0 ? (
          <Empty>No prices in this range.</Empty>
        ) : (
          <Chart option={priceOption} label={`${symbol} price`} />
        )}
      </div>

      <div className="panel">
        <div className="panel-head">
          <h2>
            Beta history{' '}
            <span className="muted" data-testid="history-range">
              {historyRange(history.data?.history)}
            </span>
          </h2>
          <div className="chips" aria-label="Factors">
            {factors.map((f) => (
              <label key={f} className="chip">
                <input
                  type="checkbox"
                  checked={shown.includes(f)}
                  onChange={() => setChosen(shown.includes(f) ? shown.filter((x) => x !== f) : [...shown, f])}
                />{' '}
                {f}
              </label>
            ))}
          </div>
        </div>
        {history.error ? (
          <Failed error={history.error} />
        ) : !betaOption ? (
          <Loading what="beta history" />
        ) : (history.data?.history.length ?? 0) === 0 ? (
          <Empty>No betas in this range.</Empty>
        ) : (
          <Chart option={betaOption} label={`${symbol} beta history`} />
        )}
      </div>

      <div className="columns">
        <div className="panel">
          <h2>Betas {d.betas_date && <span className="muted">of {d.betas_date}</span>}</h2>
          {d.betas.length === 0 ? (
            <Empty>No betas for this symbol yet.</Empty>
          ) : (
            <BetasTable betas={d.betas} joint={jointFactors(factorDefs.data?.factors)} />
          )}
        </div>
        <div className="panel">
          <h2>Metrics</h2>
          {m ? (
            <dl className="facts">
              {COLUMNS.filter(
                (c) => c.group === 'returns' || c.group === 'valuation' || c.group === 'quality',
              ).map((c) => (
                <div key={c.id}>
                  <dt>{c.label}</dt>
                  <dd
                    className={
                      c.kind === 'pct' ? (Number(m[c.id]) > 0 ? 'pos' : Number(m[c.id]) < 0 ? 'neg' : '') : ''
                    }
                  >
                    {formatCell(c, m[c.id])}
                  </dd>
                </div>
              ))}
            </dl>
          ) : (
            <Empty>No metrics for this date.</Empty>
          )}
          <h2>Profile</h2>
          {company ? (
            <dl className="facts">
              <div>
                <dt>Name</dt>
                <dd>{company.company_name ?? '—'}</dd>
              </div>
              <div>
                <dt>Sector</dt>
                <dd>{company.sector ?? '—'}</dd>
              </div>
              <div>
                <dt>Industry</dt>
                <dd>{company.industry ?? '—'}</dd>
              </div>
              <div>
                <dt>Market cap</dt>
                <dd>{fmtCompactUsd(company.market_cap as number | null)}</dd>
              </div>
              <div>
                <dt>Enterprise value</dt>
                <dd>{fmtCompactUsd(company.enterprise_value as number | null)}</dd>
              </div>
              <div>
                <dt>P/E · P/S · P/B</dt>
                <dd>
                  {fmtNum(company.pe_ratio as number | null)} · {fmtNum(company.ps_ratio as number | null)} ·{' '}
                  {fmtNum(company.pb_ratio as number | null)}
                </dd>
              </div>
            </dl>
          ) : (
            <Empty>No company profile (an ETF or an index?).</Empty>
          )}
        </div>
      </div>
    </section>
  );
}

/** The dates the beta history covers, as said in its title (not a fixed "1 year"). */
function historyRange(h: Detail['history'] | undefined): string {
  if (!h || h.length === 0) return '';
  let first = h[0]!.date;
  let last = first;
  for (const x of h) {
    if (x.date < first) first = x.date;
    if (x.date > last) last = x.date;
  }
  return first === last ? `on ${first}` : `${first} to ${last}`;
}

/** The factors fitted together in one (ridge) regression: they share its R². */
function jointFactors(defs: { name: string; method: string }[] | undefined): Set<string> {
  return new Set((defs ?? []).filter((f) => f.method === 'ridge_regression').map((f) => f.name));
}

/**
 * Today's betas: the style factors of the joint regression first, its one R² said once for all of
 * them; then the one-factor fits, each with its own R². A beta's colour fades with a poor fit
 * (R² below 0.3), so a spread beta with R² 0.05 does not look as sure as a well-fitted one.
 */
function BetasTable({ betas, joint }: { betas: Detail['betas']; joint: Set<string> }) {
  const style = betas.filter((b) => joint.has(b.factor));
  const single = betas.filter((b) => !joint.has(b.factor));
  const row = (b: Detail['betas'][number], r2: ReactNode) => (
    <tr key={b.factor} data-factor={b.factor}>
      <td className="text">{b.factor}</td>
      <td className="num" style={{ background: betaColor(b.beta, b.r_squared) }}>
        {fmtBeta(b.beta)}
      </td>
      <td className="num">{r2}</td>
      <td className="num">{fmtInt(b.observations)}</td>
      <td className="text">
        <span className={`flag flag-${b.quality_flag}`}>{b.quality_flag}</span>
      </td>
    </tr>
  );
  return (
    <table className="plain" aria-label="Betas">
      <thead>
        <tr>
          <th className="text">Factor</th>
          <th>β</th>
          <th title="R² of the regression the beta comes from">R² of fit</th>
          <th>Obs.</th>
          <th className="text">Quality</th>
        </tr>
      </thead>
      {style.length > 0 && (
        <tbody>
          <tr className="group-row">
            <th className="text" colSpan={5} data-testid="joint-r2">
              Style factors, fitted together: R² {fmtNum(style[0]!.r_squared)} (one regression)
            </th>
          </tr>
          {style.map((b) => row(b, <span className="muted">shared</span>))}
        </tbody>
      )}
      {single.length > 0 && (
        <tbody>
          <tr className="group-row">
            <th className="text" colSpan={5}>
              Market and spreads, each its own regression
            </th>
          </tr>
          {single.map((b) => row(b, fmtNum(b.r_squared)))}
        </tbody>
      )}
    </table>
  );
}
