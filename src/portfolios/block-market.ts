import type pg from 'pg';
import { loadMarketView, marketViewOf, type CloseRow, type VolRow } from './market.ts';
import type { MarketView } from './valuation.ts';

interface BlockRows {
  /** The symbols read: those of every position open on a day of the block. */
  symbols: Set<string>;
  /** The calendar's trading days from the one before the block's first day through its last. */
  calendar: string[];
  closes: Map<string, CloseRow[]>;
  vols: Map<string, VolRow[]>;
}

function byDate<R>(rows: readonly R[], dateOf: (r: R) => string): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of rows) {
    const d = dateOf(r);
    let list = out.get(d);
    if (!list) out.set(d, (list = []));
    list.push(r);
  }
  return out;
}

/**
 * The market views of a block of trading days (the portfolio stage), from one read of the block's
 * closes and stored vols of the symbols held on its days instead of three queries a day: each
 * day's view is that of `loadMarketView` (the same rows, filtered to the day's symbols). A date
 * outside the block, or a symbol not read, is read on its own.
 */
export class BlockMarket {
  private rows?: Promise<BlockRows>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly calendarSymbol: string,
    private readonly dates: readonly string[],
    private readonly volWindowDays: number,
  ) {}

  async view(date: string, symbols: readonly string[], volSymbols: readonly string[]): Promise<MarketView> {
    if (!this.dates.includes(date))
      return loadMarketView(this.pool, this.calendarSymbol, date, symbols, volSymbols, this.volWindowDays);
    const rows = await (this.rows ??= this.load());
    if (symbols.some((s) => !rows.symbols.has(s)))
      return loadMarketView(this.pool, this.calendarSymbol, date, symbols, volSymbols, this.volWindowDays);
    // prev: the calendar's trading day before D, as loadMarketView's max(date) < D finds it
    const i = rows.calendar.indexOf(date);
    const prevDate = i > 0 ? rows.calendar[i - 1] : undefined;
    const days = prevDate ? [date, prevDate] : [date];
    const held = new Set(symbols);
    const vol = new Set(volSymbols);
    return marketViewOf(
      this.pool,
      this.calendarSymbol,
      date,
      prevDate,
      days.flatMap((d) => rows.closes.get(d) ?? []).filter((r) => held.has(r.symbol)),
      days.flatMap((d) => rows.vols.get(d) ?? []).filter((r) => vol.has(r.symbol)),
      volSymbols,
      this.volWindowDays,
    );
  }

  private async load(): Promise<BlockRows> {
    const first = this.dates[0]!;
    const last = this.dates.at(-1)!;
    const { rows: cal } = await this.pool.query<{ d: string }>(
      `SELECT date::text AS d FROM market_data_cache
        WHERE symbol = $1 AND date <= $3
          AND date >= coalesce((SELECT max(date) FROM market_data_cache WHERE symbol = $1 AND date < $2), $2)
        ORDER BY date`,
      [this.calendarSymbol, first, last],
    );
    const calendar = cal.map((r) => r.d);
    // the symbols of the positions open on a day of the block (openPositions' test, over the block)
    const { rows: held } = await this.pool.query<{ s: string }>(
      `SELECT DISTINCT s FROM positions, unnest(array[symbol, underlying_symbol]) AS s
        WHERE s IS NOT NULL AND (entry_date IS NULL OR entry_date <= $2) AND (exit_date IS NULL OR exit_date >= $1)`,
      [first, last],
    );
    const symbols = held.map((r) => r.s);
    const [closes, vols] = await Promise.all([
      this.pool.query<CloseRow>(
        'SELECT symbol, date::text AS date, close FROM market_data_cache WHERE symbol = ANY($1) AND date = ANY($2)',
        [symbols, calendar],
      ),
      this.pool.query<VolRow>(
        `SELECT symbol, metric_date::text AS d, realized_vol FROM symbol_daily_metrics
          WHERE metric_date = ANY($1) AND symbol = ANY($2) AND realized_vol IS NOT NULL`,
        [calendar, symbols],
      ),
    ]);
    return {
      symbols: new Set(symbols),
      calendar,
      closes: byDate(closes.rows, (r) => r.date),
      vols: byDate(vols.rows, (r) => r.d),
    };
  }
}
