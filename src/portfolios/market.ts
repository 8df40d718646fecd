import type pg from 'pg';
import { addDays } from '../dates.ts';
import { loadCloses } from '../market/closes.ts';
import { realizedVols } from '../market/volatility.ts';
import type { MarketView, Quote } from './valuation.ts';

/**
 * The market a set of portfolios needs on trading day D, in three bulk reads: closes on D and on the
 * previous trading day for every symbol held, and a year of closes for the underlyings whose options
 * carry no implied volatility (for their realised volatility).
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
  const { rows } = await pool.query<{ symbol: string; date: string; close: number }>(
    'SELECT symbol, date::text AS date, close FROM market_data_cache WHERE symbol = ANY($1) AND date = ANY($2)',
    [symbols, prevDate ? [date, prevDate] : [date]],
  );
  const quotes = new Map<string, Quote>();
  for (const r of rows) {
    const q = quotes.get(r.symbol) ?? {};
    if (r.date === date) q.close = r.close;
    else q.prevClose = r.close;
    quotes.set(r.symbol, q);
  }
  // Realised volatilities come from the symbol metrics of D when the batch has computed them.
  const stored = await pool.query<{ symbol: string; realized_vol: number }>(
    'SELECT symbol, realized_vol FROM symbol_daily_metrics WHERE metric_date = $1 AND symbol = ANY($2) AND realized_vol IS NOT NULL',
    [date, volSymbols],
  );
  const vols = new Map(stored.rows.map((r) => [r.symbol, r.realized_vol]));
  const missing = volSymbols.filter((s) => !vols.has(s));
  if (missing.length > 0) {
    const m = await loadCloses(pool, calendarSymbol, addDays(date, -volWindowDays), date, missing);
    const found = realizedVols(m, m.dates.length - 1, volWindowDays);
    m.symbols.forEach((s, i) => {
      const v = found[i];
      if (v !== undefined) vols.set(s, v);
    });
  }
  return {
    date,
    ...(prevDate ? { prevDate } : {}),
    quote: (s) => quotes.get(s) ?? {},
    realizedVol: (s) => vols.get(s),
  };
}
