import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { addDays } from '../dates.ts';
import { withTransaction } from '../db/transaction.ts';
import { runLimited } from '../run-limited.ts';
import { refreshUniverse } from '../universe.ts';
import { tradingDays } from './closes.ts';
import {
  differs,
  fetchableSymbols,
  findRevision,
  recordFailures,
  storedCloses,
  storedRanges,
  writeBars,
  type Revision,
} from './price-history.ts';
import { checkBars } from './providers/validate.ts';
import { ProviderError, type DailyBar, type MarketDataProvider } from './providers/types.ts';

export interface FetchPricesOptions {
  provider: MarketDataProvider;
  /** Last date to fetch (inclusive): the batch's date, or today. */
  to: string;
  /** Calendar days of history a symbol's first fetch takes. */
  historyDays: number;
  /** The trading calendar's symbol (SPY): fetched first, then used to find gaps in the others. */
  calendarSymbol: string;
  /** Default: active universe symbols, unpriced option underlyings, factor proxies (+ a file's symbols). */
  symbols?: readonly string[];
  /** Fetch from this date instead of the day after each symbol's last stored close. */
  since?: string;
  runId?: string;
  onSymbol?: (outcome: SymbolOutcome, done: number, total: number) => void;
}

export type SymbolStatus = 'stored' | 'revised' | 'unchanged' | 'not_covered' | 'failed';

export interface SymbolOutcome {
  symbol: string;
  status: SymbolStatus;
  rows: number;
  reason?: string;
  /** For a revision: first changed close, betas and metrics removed for recomputation. */
  revision?: {
    firstChanged: string;
    returnsFrom: string | null;
    betas: number;
    metrics: number;
    repriced: number;
  };
}

export interface FetchPricesResult {
  runId: string;
  provider: string;
  symbols: number;
  rows: number;
  counts: Record<SymbolStatus, number>;
  revised: (SymbolOutcome & { revision: NonNullable<SymbolOutcome['revision']> })[];
  failures: { symbol: string; reason: string }[];
}

/** A symbol's answer was unusable; the message says why, for `market_data_fetch_failures`. */
class BadAnswer extends Error {}

/** "a, b, c (+4 more)". */
function listed(items: readonly string[], n = 3): string {
  return items.slice(0, n).join(', ') + (items.length > n ? ` (+${items.length - n} more)` : '');
}

/**
 * The trading days (of the stored calendar) in [start, to] that `bars` lack; the reason a series
 * with gaps or cut short is refused.
 */
function coverageProblem(
  bars: readonly DailyBar[],
  calendar: readonly string[],
  start: string,
  to: string,
): string | undefined {
  const have = new Set(bars.map((b) => b.date));
  const missing = calendar.filter((d) => d >= start && d <= to && !have.has(d));
  if (missing.length === 0) return undefined;
  const last = bars.at(-1)?.date;
  if (last === undefined)
    return `empty series: no bars from ${start} to ${to}, though the market traded on ${missing.length} day(s) (symbol renamed or delisted?)`;
  if (missing.every((d) => d > last))
    return `the series stops on ${last}, though the market traded on ${missing.length} day(s) since (symbol renamed or delisted?)`;
  return `gaps in the series: no bar on ${listed(missing)} (trading days of the calendar)`;
}

/**
 * The market data step, for every provider alike: per symbol, fetch only the dates after its last
 * stored close (a first fetch takes `historyDays`), check the answer with the importer's rules
 * (checkBars) and against the trading calendar (no gaps, not cut short), and store it in one
 * transaction per symbol. When the answer reports a split or dividend, the symbol's whole stored
 * range is fetched again and the adjusted series replaces the stored one; what was computed from
 * the old closes is removed for recomputation or, where only the close moved, corrected (writeBars). A symbol that fails fails alone: its reason
 * is recorded in `market_data_fetch_failures` and the others are stored.
 */
export async function fetchPrices(pool: pg.Pool, o: FetchPricesOptions): Promise<FetchPricesResult> {
  const { provider, to, calendarSymbol } = o;
  const runId = o.runId ?? randomUUID();
  const requested = o.symbols ?? [
    ...new Set([...(await fetchableSymbols(pool)), ...((await provider.listSymbols?.()) ?? [])]),
  ];
  const symbols = [...new Set(requested)].sort((a, b) =>
    a === calendarSymbol ? -1 : b === calendarSymbol ? 1 : a < b ? -1 : 1,
  );
  const ranges = await storedRanges(pool, symbols);
  const firstFetchFrom = addDays(to, -o.historyDays);
  const result: FetchPricesResult = {
    runId,
    provider: provider.name,
    symbols: symbols.length,
    rows: 0,
    counts: { stored: 0, revised: 0, unchanged: 0, not_covered: 0, failed: 0 },
    revised: [],
    failures: [],
  };
  let calendar: string[] = [];
  let done = 0;

  async function one(symbol: string): Promise<SymbolOutcome> {
    const range = ranges.get(symbol);
    const from = o.since ?? (range ? addDays(range.last, 1) : firstFetchFrom);
    if (!provider.wholeHistory && from > to) return { symbol, status: 'unchanged', rows: 0 };
    // A source with its whole history at hand is read whole and compared with the store.
    const answer = await provider.dailyBars(
      symbol,
      provider.wholeHistory ? (o.since ?? '0001-01-01') : from,
      to,
    );
    if (answer === null) return { symbol, status: 'not_covered', rows: 0 };
    let checked = checkBars(answer.bars);
    if (checked.problems.length) throw new BadAnswer(`bad values: ${listed(checked.problems)}`);
    let actions = answer.actions;
    if (!provider.wholeHistory && range && actions.length > 0 && checked.bars.length > 0) {
      // A new split or dividend rescales the adjusted history: take all of it again.
      const full = await provider.dailyBars(symbol, range.first, to);
      checked = checkBars(full?.bars ?? []);
      if (checked.problems.length)
        throw new BadAnswer(`bad values in the re-fetched history: ${listed(checked.problems)}`);
      actions = full?.actions ?? actions;
    }
    const bars = checked.bars;
    if (!provider.wholeHistory) {
      if (bars.length === 0 && !range && (symbol === calendarSymbol || calendar.length === 0))
        throw new BadAnswer(`empty series: no bars from ${from} to ${to}`);
      if (symbol !== calendarSymbol) {
        const start = range && bars[0]?.date !== range.first ? from : (bars[0]?.date ?? from);
        const problem = coverageProblem(bars, calendar, start, to);
        if (problem) throw new BadAnswer(problem);
      }
    }
    if (bars.length === 0) return { symbol, status: 'unchanged', rows: 0 };

    let toWrite = bars;
    let revision: Revision | undefined;
    const overlapping = range ? bars.filter((b) => b.date >= range.first && b.date <= range.last) : [];
    if (range && overlapping.length > 0) {
      const stored = await storedCloses(pool, symbol, overlapping[0]!.date, range.last);
      const found = findRevision(stored, bars);
      if (found.closesFrom)
        revision = { closesFrom: found.closesFrom, returnsFrom: found.returnsFrom, actions };
      toWrite = bars.filter((b) => {
        const old = stored.get(b.date);
        return old === undefined || differs(old, b.adjClose);
      });
    }
    if (toWrite.length === 0) return { symbol, status: 'unchanged', rows: 0 };
    const w = await withTransaction(pool, (client) =>
      writeBars(client, {
        symbol,
        provider: provider.name,
        runId,
        bars: toWrite,
        ...(revision ? { revision } : {}),
      }),
    );
    return revision
      ? {
          symbol,
          status: 'revised',
          rows: w.rows,
          revision: {
            firstChanged: revision.closesFrom,
            returnsFrom: revision.returnsFrom ?? null,
            betas: w.betasInvalidated,
            metrics: w.metricsInvalidated,
            repriced: w.metricsRepriced,
          },
        }
      : { symbol, status: 'stored', rows: w.rows };
  }

  async function settle(symbol: string): Promise<void> {
    let outcome: SymbolOutcome;
    try {
      outcome = await one(symbol);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      // Anything but a provider's or a data problem (e.g. the database gone) stops the run.
      if (!(e instanceof BadAnswer) && !(e instanceof ProviderError)) throw e;
      outcome = { symbol, status: 'failed', rows: 0, reason };
      result.failures.push({ symbol, reason });
    }
    result.counts[outcome.status]++;
    result.rows += outcome.rows;
    if (outcome.revision) result.revised.push({ ...outcome, revision: outcome.revision });
    o.onSymbol?.(outcome, ++done, symbols.length);
  }

  const rest = symbols[0] === calendarSymbol ? symbols.slice(1) : symbols;
  if (rest.length < symbols.length) await settle(calendarSymbol);
  const earliest = [
    firstFetchFrom,
    ...[...ranges.values()].map((r) => r.last),
    ...(o.since ? [o.since] : []),
  ].sort()[0]!;
  calendar = await tradingDays(pool, calendarSymbol, earliest, to);
  await runLimited(rest, Math.max(1, provider.limits.concurrency), settle);

  await recordFailures(pool, runId, provider.name, 'prices', result.failures);
  if (result.rows > 0) await withTransaction(pool, refreshUniverse);
  if (result.rows > 10_000) await pool.query('ANALYZE market_data_cache');
  return result;
}
