/** Number formatting shared by every page: percents, dollars with separators, betas to 2 decimals. */
const dash = '—';
// signDisplay 'negative': a value that rounds to zero prints "0.00", never "-0.00".
const usd0 = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumFractionDigits: 0,
  signDisplay: 'negative',
});
const usd2 = new Intl.NumberFormat('en-US', {
  style: 'currency',
  signDisplay: 'negative',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const num2 = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  signDisplay: 'negative',
});
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0, signDisplay: 'negative' });
const sig4 = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4, signDisplay: 'negative' });
const pctFormats = new Map<number, Intl.NumberFormat>();
const pct = (digits: number) => {
  let f = pctFormats.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', {
      style: 'percent',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      signDisplay: 'negative',
    });
    pctFormats.set(digits, f);
  }
  return f;
};
const compact = new Intl.NumberFormat('en-US', {
  signDisplay: 'negative',
  notation: 'compact',
  maximumFractionDigits: 1,
  style: 'currency',
  currency: 'USD',
});

const ok = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

export const fmtPct = (x: number | null | undefined, digits = 2) => (ok(x) ? pct(digits).format(x) : dash);
/** Four significant digits (Greeks, small quantities): 0.0004213, 12.35, 1,235. */
export const fmtSig = (x: number | null | undefined) => (ok(x) ? sig4.format(x) : dash);
export const fmtUsd = (x: number | null | undefined) => (ok(x) ? usd0.format(x) : dash);
export const fmtPrice = (x: number | null | undefined) => (ok(x) ? usd2.format(x) : dash);
/** A limit's bound or value in its metric's unit: VaR in dollars, the others as plain numbers. */
export const fmtLimit = (metric: string | undefined, x: number | null) =>
  x === null ? '' : metric === 'var' ? fmtUsd(x) : x.toFixed(4);
const axisUsd = new Intl.NumberFormat('en-US', {
  notation: 'compact',
  maximumSignificantDigits: 3,
  style: 'currency',
  currency: 'USD',
  signDisplay: 'negative',
});
/** Axis ticks in dollars: three significant digits, so $3.05M and $3.1M stay apart. */
export const fmtAxisUsd = (x: number | null | undefined) => (ok(x) ? axisUsd.format(x) : dash);
export const fmtCompactUsd = (x: number | null | undefined) => (ok(x) ? compact.format(x) : dash);
export const fmtBeta = (x: number | null | undefined) => (ok(x) ? num2.format(x) : dash);
export const fmtNum = (x: number | null | undefined) => (ok(x) ? num2.format(x) : dash);
export const fmtInt = (x: number | null | undefined) => (ok(x) ? int.format(x) : dash);

/**
 * Background of a beta cell: blue for positive, red for negative, stronger with size (|β| ≥ 1.5 is
 * full); given the fit's R², weaker when the fit is poor (R² below 0.3 fades it in proportion).
 */
export function betaColor(x: number | null | undefined, r2?: number | null): string | undefined {
  if (!ok(x) || x === 0) return undefined;
  const fit = ok(r2) ? Math.min(Math.max(r2, 0) / 0.3, 1) : 1;
  const a = Math.min(Math.abs(x) / 1.5, 1) * 0.55 * fit;
  return x > 0 ? `rgba(37, 99, 235, ${a.toFixed(3)})` : `rgba(220, 38, 38, ${a.toFixed(3)})`;
}

export const signClass = (x: number | null | undefined) =>
  ok(x) ? (x > 0 ? 'pos' : x < 0 ? 'neg' : '') : '';

export const todayIso = () => new Date().toISOString().slice(0, 10);
export const daysBefore = (iso: string, days: number) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
};
