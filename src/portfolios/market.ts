import type pg from 'pg';
import { addDays } from '../dates.ts';
import { loadCloses } from '../market/closes.ts';
import { realizedVols } from '../market/volatility.ts';
import type { MarketView, Quote } from './valuation.ts';

/**
 * The market a set of portfolios needs on trading day D, in a few bulk reads: closes on D and on the
 * previous trading day for every symbol held, and the realised volatilities of D and of prev for the
 * underlyings whose options carry no implied volatility (stored by the metrics phase, else computed
 * from one read of closes reaching a window before prev).
 */
export async function loadMarketView(
  pool: pg.Pool,
  calendarSymbol: string,
  date: string,
  symbols: readonly string[],
  volSymbols: readonly string[],
  volWindowDays: number,
): Promise<MarketView> {
  const prev = await pool.query<{ d: string | null }>(
    'SELECT max(date)::text AS d FROM market_data_cache WHERE symbol = $1 AND date < $2',
    [calendarSymbol, date],
  );
  const prevDate = prev.rows[0]?.d ?? undefined;
  // Realised volatilities of D and of prev (an option's delta_prev, METHODOLOGY.md §8) come from the
  // symbol metrics of those dates when the batch has computed them: one query for both days, read
  // beside the quotes (neither depends on the other).
  const days = prevDate ? [date, prevDate] : [date];
  const [{ rows }, stored] = await Promise.all([
    pool.query<CloseRow>(
      'SELECT symbol, date::text AS date, close FROM market_data_cache WHERE symbol = ANY($1) AND date = ANY($2)',
      [symbols, days],
    ),
    pool.query<VolRow>(
      `SELECT symbol, metric_date::text AS d, realized_vol FROM symbol_daily_metrics
        WHERE metric_date = ANY($1) AND symbol = ANY($2) AND realized_vol IS NOT NULL`,
      [days, volSymbols],
    ),
  ]);
  return marketViewOf(pool, calendarSymbol, date, prevDate, rows, stored.rows, volSymbols, volWindowDays);
}

/** A stored close of a symbol on a day (`date` as text). */
export interface CloseRow {
  symbol: string;
  date: string;
  close: number;
}

/** A stored realised volatility of a symbol on a day (`d` as text). */
export interface VolRow {
  symbol: string;
  d: string;
  realized_vol: number;
}

/**
 * The market view of D from its rows, read for this day or for a block of days: `closes` of the
 * held symbols on D and prev, `storedVols` of the vol symbols on D and prev. Vols the metrics phase
 * did not store are computed from one read of closes reaching a window before prev.
 */
export async function marketViewOf(
  pool: pg.Pool,
  calendarSymbol: string,
  date: string,
  prevDate: string | undefined,
  closes: readonly CloseRow[],
  storedVols: readonly VolRow[],
  volSymbols: readonly string[],
  volWindowDays: number,
): Promise<MarketView> {
  const quotes = new Map<string, Quote>();
  for (const r of closes) {
    const q = quotes.get(r.symbol) ?? {};
    if (r.date === date) q.close = r.close;
    else q.prevClose = r.close;
    quotes.set(r.symbol, q);
  }
  const vols = new Map<string, number>();
  const prevVols = new Map<string, number>();
  for (const r of storedVols) (r.d === date ? vols : prevVols).set(r.symbol, r.realized_vol);
  const missing = volSymbols.filter((s) => !vols.has(s) || (prevDate !== undefined && !prevVols.has(s)));
  if (missing.length > 0) {
    // One read of closes reaching a window before prev serves both windows.
    const m = await loadCloses(
      pool,
      calendarSymbol,
      addDays(prevDate ?? date, -volWindowDays),
      date,
      missing,
    );
    for (const [day, into] of [
      [date, vols],
      [prevDate, prevVols],
    ] as const) {
      const end = day === undefined ? -1 : m.dates.indexOf(day);
      if (end < 0) continue;
      const found = realizedVols(m, end, volWindowDays);
      m.symbols.forEach((s, i) => {
        const v = found[i];
        if (v !== undefined && !into.has(s)) into.set(s, v);
      });
    }
  }
  return {
    date,
    ...(prevDate ? { prevDate } : {}),
    quote: (s) => quotes.get(s) ?? {},
    realizedVol: (s) => vols.get(s),
    prevRealizedVol: (s) => prevVols.get(s),
  };
}
