import { ImportError } from '../../imports/csv.ts';
import { checkFileSymbol, priceFiles, readPriceRows } from '../../imports/prices.ts';
import { ProviderError, type DailyBar, type MarketDataProvider, type PriceHistory } from './types.ts';

/**
 * Today's price files as a provider: a long CSV/CSV.gz (`symbol,date,close[,…]`) or a folder of
 * `SYMBOL.csv`, read once per run through the importer's own reader and rules. The file's close is
 * taken as already adjusted (a file carries one close). A rejected file fails every symbol it holds
 * with the importer's message (line and column), as an import would.
 */
export function fileProvider(target: string): MarketDataProvider {
  let loaded: Promise<{ bars: Map<string, DailyBar[]>; rejected: Map<string, string> }> | undefined;

  async function load() {
    const bars = new Map<string, DailyBar[]>();
    const rejected = new Map<string, string>();
    for (const [file, fixed] of priceFiles(target)) {
      const rows = new Map<string, DailyBar[]>();
      try {
        checkFileSymbol(file, fixed);
        await readPriceRows(file, fixed, (r) => {
          const list = rows.get(r.symbol) ?? [];
          if (list.length === 0) rows.set(r.symbol, list);
          list.push({
            date: r.date,
            close: null,
            adjClose: r.close,
            volume: r.volume,
            open: r.open,
            high: r.high,
            low: r.low,
          });
        });
        for (const [s, list] of rows) bars.set(s, [...(bars.get(s) ?? []), ...list]);
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        // A per-symbol file fails its symbol; a long file fails the symbols it named before the error.
        for (const s of fixed ? [fixed] : rows.keys()) rejected.set(s, e.message);
        if (!fixed && rows.size === 0) rejected.set('*', e.message);
      }
    }
    return { bars, rejected };
  }

  return {
    name: 'file',
    limits: { requestsPerSecond: Number.POSITIVE_INFINITY, concurrency: 1 },
    wholeHistory: true,
    async listSymbols() {
      const { bars, rejected } = await (loaded ??= load());
      return [...new Set([...bars.keys(), ...rejected.keys()])].filter((s) => s !== '*').sort();
    },
    async dailyBars(symbol, from, to): Promise<PriceHistory | null> {
      const { bars, rejected } = await (loaded ??= load());
      const why = rejected.get(symbol);
      if (why) throw new ProviderError(why, 'bad_answer');
      const list = bars.get(symbol);
      if (!list) return null;
      return { symbol, bars: list.filter((b) => b.date >= from && b.date <= to), actions: [] };
    },
  };
}
