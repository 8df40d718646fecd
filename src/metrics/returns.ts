import { addDays, minusMonths } from '../dates.ts';

/**
 * Period returns of every symbol as of trading day D (METHODOLOGY.md 6), from a closes matrix on the
 * trading calendar (`closes[s * T + t]`, NaN = no close). Bases:
 *   1d:  the previous trading day
 *   MTD: the last trading day of the previous month;  YTD: of the previous year
 *   1m / 3m / 1y: the last trading day on or before D minus 1, 3 or 12 calendar months
 * A return whose base close (or D's close) does not exist is null, never 0.
 *
 * Example: D = 2024-03-15 → MTD base = last trading day ≤ 2024-02-29, 1m base = last ≤ 2024-02-15.
 */
export const PERIODS = [
  'return_1d',
  'return_mtd',
  'return_ytd',
  'return_1m',
  'return_3m',
  'return_1y',
] as const;
export type Period = (typeof PERIODS)[number];

export interface SymbolReturns {
  currentPrice: (number | null)[];
  returns: Record<Period, (number | null)[]>;
}

/** Index of the last date ≤ `limit` (ISO compare), or −1. */
function lastOnOrBefore(dates: readonly string[], limit: string): number {
  let lo = 0;
  let hi = dates.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (dates[mid]! <= limit) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Base indices of each period for the trading day at index `end`. */
export function periodBases(dates: readonly string[], end: number): Record<Period, number> {
  const d = dates[end]!;
  const monthStart = `${d.slice(0, 7)}-01`;
  const yearStart = `${d.slice(0, 4)}-01-01`;
  const before = (iso: string) => lastOnOrBefore(dates, addDays(iso, -1));
  return {
    return_1d: end - 1,
    return_mtd: before(monthStart),
    return_ytd: before(yearStart),
    return_1m: lastOnOrBefore(dates, minusMonths(d, 1)),
    return_3m: lastOnOrBefore(dates, minusMonths(d, 3)),
    return_1y: lastOnOrBefore(dates, minusMonths(d, 12)),
  };
}

export function symbolReturns(
  dates: readonly string[],
  symbolCount: number,
  closes: Float64Array,
  end: number,
): SymbolReturns {
  const T = dates.length;
  const bases = periodBases(dates, end);
  const current: (number | null)[] = [];
  const returns = Object.fromEntries(PERIODS.map((p) => [p, [] as (number | null)[]])) as Record<
    Period,
    (number | null)[]
  >;
  for (let s = 0; s < symbolCount; s++) {
    const c = closes[s * T + end]!;
    current.push(Number.isNaN(c) ? null : c);
    for (const p of PERIODS) {
      const b = bases[p];
      const base = b >= 0 ? closes[s * T + b]! : NaN;
      const r = c / base - 1;
      returns[p].push(Number.isFinite(r) ? r : null);
    }
  }
  return { currentPrice: current, returns };
}
