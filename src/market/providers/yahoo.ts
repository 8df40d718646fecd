import YahooFinance from 'yahoo-finance2';
import { addDays } from '../../dates.ts';
import { limitsFor, ProviderHttp, type AdapterPolicy } from './http.ts';
import {
  ProviderError,
  type CompanyProfile,
  type CorporateAction,
  type FetchLike,
  type MarketDataProvider,
  type PriceHistory,
} from './types.ts';

/** Yahoo has no published quota; one request every 0.5 s, two at a time, stays clear of its 429s. */
export const YAHOO_LIMITS = { requestsPerSecond: 2, concurrency: 2 };

/** The exchange-local calendar day of a Yahoo timestamp (its daily bars are stamped at the open). */
function localDay(date: Date, gmtoffsetSeconds: number): string {
  return new Date(date.getTime() + gmtoffsetSeconds * 1000).toISOString().slice(0, 10);
}

/**
 * Quotes in a currency's minor unit (London in pence, `GBp`/`GBX`; Johannesburg `ZAc`; Tel Aviv
 * `ILA`): prices and dividends are divided by 100 into the major unit, so a close of 1259.5 GBp is
 * stored as 12.595 (GBP), like every other listing's close in its currency's major unit.
 */
const MINOR_UNITS = new Set(['GBp', 'GBX', 'ZAc', 'ILA']);

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/**
 * Yahoo Finance through `yahoo-finance2` (3.x): the `chart` module for daily bars with their
 * dividend and split events, `quoteSummary` for profiles. No key. The library is constructed with
 * our disciplined fetch (rate limit, retries, timeout), no version check and no console output.
 */
export function yahooProvider(
  fetchImpl: FetchLike,
  policy: AdapterPolicy,
  log: (message: string) => void = () => undefined,
): MarketDataProvider {
  const limits = limitsFor(YAHOO_LIMITS, policy);
  const http = new ProviderHttp(
    fetchImpl,
    { ...policy, ...limits },
    {
      // The crumb handshake of quoteSummary reads an HTML page on purpose; the data endpoints must be JSON.
      expectsJson: (url) => /\/v8\/finance\/chart\/|\/v10\/finance\/quoteSummary\//.test(url),
      onRetry: (m) => log(`yahoo: ${m}`),
    },
  );
  const yf = new YahooFinance({
    fetch: http.fetch as typeof fetch,
    versionCheck: false,
    suppressNotices: ['yahooSurvey', 'ripHistorical'],
    queue: { concurrency: limits.concurrency },
    validation: { logErrors: false, logOptionsErrors: false },
    logger: {
      info: () => undefined,
      debug: () => undefined,
      dir: () => undefined,
      // The library warns on every construction under Node < 22, though its package declares
      // Node >= 20 and the chart and quoteSummary modules work there (our tests run them on 20).
      warn: (...args: unknown[]) => {
        const m = args.map(String).join(' ');
        if (!/Unsupported environment/.test(m)) log(`yahoo: ${m}`);
      },
      error: (...args: unknown[]) => log(`yahoo: ${args.map(String).join(' ')}`),
    },
  });

  /** Library errors carry whole response bodies; keep the first line, short. */
  const wrap = (symbol: string, e: unknown): ProviderError => {
    if (e instanceof ProviderError) return e;
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
    const notFound = /no data found|delisted|not found/i.test(message);
    return new ProviderError(`Yahoo: ${symbol}: ${message}`, notFound ? 'not_found' : 'bad_answer');
  };

  return {
    name: 'yahoo',
    limits,
    wholeHistory: false,
    async dailyBars(symbol, from, to): Promise<PriceHistory> {
      try {
        // period2 is exclusive: the day after `to` includes `to`.
        const r = await yf.chart(symbol, {
          period1: from,
          period2: addDays(to, 1),
          interval: '1d',
          events: 'div|split',
          includePrePost: false,
          return: 'array',
        });
        const offset = r.meta.gmtoffset;
        const unit = MINOR_UNITS.has(String(r.meta.currency)) ? 0.01 : 1;
        const major = (v: number | null | undefined) => (typeof v === 'number' ? v * unit : v);
        const bars = r.quotes.map((q) => ({
          date: localDay(q.date, offset),
          close: major(q.close) as number,
          adjClose: major(q.adjclose ?? q.close) as number,
          volume: q.volume,
        }));
        const actions: CorporateAction[] = [
          ...(r.events?.splits ?? []).map((s) => ({
            kind: 'split' as const,
            date: localDay(s.date, offset),
            ratio: s.numerator / s.denominator,
          })),
          ...(r.events?.dividends ?? []).map((d) => ({
            kind: 'dividend' as const,
            date: localDay(d.date, offset),
            amount: d.amount * unit,
          })),
        ];
        // During a session Yahoo appends a live bar for today: not a close yet, so not stored.
        const session = r.meta.currentTradingPeriod?.regular;
        const open = session && r.meta.regularMarketTime < session.end;
        const today = localDay(r.meta.regularMarketTime, offset);
        return {
          symbol,
          bars: bars.filter((b) => b.date >= from && b.date <= to && !(open && b.date === today)),
          actions,
        };
      } catch (e) {
        throw wrap(symbol, e);
      }
    },
    async profile(symbol): Promise<CompanyProfile> {
      try {
        const r = await yf.quoteSummary(symbol, {
          modules: ['price', 'summaryDetail', 'assetProfile', 'defaultKeyStatistics'],
        });
        const sd = r.summaryDetail;
        return {
          symbol,
          fund: ['ETF', 'MUTUALFUND'].includes(String(r.price?.quoteType)),
          companyName: text(r.price?.longName) ?? text(r.price?.shortName),
          sector: text(r.assetProfile?.sector),
          industry: text(r.assetProfile?.industry),
          marketCap: num(r.price?.marketCap) ?? num(sd?.marketCap),
          price: num(r.price?.regularMarketPrice),
          enterpriseValue: num(r.defaultKeyStatistics?.enterpriseValue),
          peRatio: num(sd?.trailingPE),
          psRatio: num(sd?.priceToSalesTrailing12Months),
          pbRatio: num(r.defaultKeyStatistics?.priceToBook),
          beta: num(sd?.beta),
          dividendYield: num(sd?.dividendYield),
        };
      } catch (e) {
        throw wrap(symbol, e);
      }
    },
  };
}
