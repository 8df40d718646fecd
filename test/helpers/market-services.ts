/**
 * Stand-ins for the market data services, answering the injected `fetch` of the provider adapters
 * in each service's own wire format (Yahoo Finance's v8 chart and v10 quoteSummary JSON, its crumb
 * handshake; Tiingo's end-of-day JSON), rendered from the small fixture world in
 * test/fixtures/providers/prices.csv: raw closes plus real corporate actions (NVDA's 10-for-1 split
 * on 2024-06-10 and $0.01 dividend on 2024-06-11, Apple's $0.25 dividend on 2024-05-10).
 * A service "on" date `asOf` knows the bars up to it and adjusts for the actions up to it, as the
 * real ones do. No network: every request is answered here and recorded.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FetchLike } from '../../src/market/providers/types.ts';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/providers');

export interface RawBar {
  date: string;
  close: number;
  volume: number;
}
export type WorldEvent =
  | { symbol: string; date: string; kind: 'split'; ratio: number }
  | { symbol: string; date: string; kind: 'dividend'; amount: number };
export interface World {
  bars: Map<string, RawBar[]>;
  events: WorldEvent[];
}

export const WORLD_EVENTS: WorldEvent[] = [
  { symbol: 'AAPL', date: '2024-05-10', kind: 'dividend', amount: 0.25 },
  { symbol: 'NVDA', date: '2024-06-10', kind: 'split', ratio: 10 },
  { symbol: 'NVDA', date: '2024-06-11', kind: 'dividend', amount: 0.01 },
];

export function loadWorld(file = path.join(FIXTURES, 'prices.csv'), events = WORLD_EVENTS): World {
  const bars = new Map<string, RawBar[]>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
    const [symbol, date, close, volume] = line.split(',') as [string, string, string, string];
    const list = bars.get(symbol) ?? [];
    if (list.length === 0) bars.set(symbol, list);
    list.push({ date, close: Number(close), volume: Number(volume) });
  }
  return { bars, events };
}

export interface ServiceBar {
  date: string;
  raw: number;
  /** Split-adjusted only (Yahoo's `close`). */
  splitAdjusted: number;
  /** Split- and dividend-adjusted, multiplicatively (Yahoo's `adjclose`, Tiingo's `adjClose`). */
  adjusted: number;
  /** Split-adjusted volume (the world's figure); `rawVolume` in the shares of the day. */
  volume: number;
  rawVolume: number;
  split: number;
  dividend: number;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The bars of [from, to] as a service answers them on `asOf`. */
export function serviceBars(
  world: World,
  symbol: string,
  from: string,
  to: string,
  asOf: string,
): ServiceBar[] {
  const all = world.bars.get(symbol) ?? [];
  const events = world.events.filter((e) => e.symbol === symbol && e.date <= asOf);
  const rawBefore = (date: string) => [...all].reverse().find((b) => b.date < date)?.close ?? NaN;
  return all
    .filter((b) => b.date >= from && b.date <= to && b.date <= asOf)
    .map((b) => {
      let splitFactor = 1;
      let divFactor = 1;
      for (const e of events) {
        if (e.date <= b.date) continue;
        if (e.kind === 'split') splitFactor /= e.ratio;
        else divFactor *= 1 - e.amount / rawBefore(e.date);
      }
      const on = events.filter((e) => e.date === b.date);
      return {
        date: b.date,
        raw: b.close,
        splitAdjusted: round6(b.close * splitFactor),
        adjusted: round6(b.close * splitFactor * divFactor),
        volume: b.volume,
        rawVolume: Math.round(b.volume * splitFactor),
        split: on.reduce((r, e) => (e.kind === 'split' ? r * e.ratio : r), 1),
        dividend: on.reduce((r, e) => (e.kind === 'dividend' ? r + e.amount : r), 0),
      };
    });
}

/** Yahoo stamps a daily bar at the New York open: 13:30 UTC in daylight time, 14:30 UTC otherwise (2024). */
export function yahooStamp(date: string): number {
  const summer = date >= '2024-03-10' && date < '2024-11-03';
  return Date.parse(`${date}T${summer ? '13' : '14'}:30:00Z`) / 1000;
}

const day = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

/** Yahoo's v8 chart answer for [from, to] on `asOf`; the "not found" error body for an unknown symbol. */
export function yahooChartBody(world: World, symbol: string, from: string, to: string, asOf: string): string {
  if (!world.bars.has(symbol)) return JSON.stringify(YAHOO_NOT_FOUND);
  const bars = serviceBars(world, symbol, from, to, asOf);
  const last = serviceBars(world, symbol, '0000-01-01', asOf, asOf).at(-1);
  const t = (d: string) => yahooStamp(d);
  const period = (start: string, end: string) => ({
    timezone: 'EDT',
    start: Date.parse(`${asOf}T${start}Z`) / 1000,
    end: Date.parse(`${asOf}T${end}Z`) / 1000,
    gmtoffset: -14400,
  });
  const dividends = Object.fromEntries(
    bars
      .filter((b) => b.dividend > 0)
      .map((b) => [String(t(b.date)), { amount: b.dividend, date: t(b.date) }]),
  );
  const splits = Object.fromEntries(
    bars
      .filter((b) => b.split !== 1)
      .map((b) => [
        String(t(b.date)),
        { date: t(b.date), numerator: b.split, denominator: 1, splitRatio: `${b.split}:1` },
      ]),
  );
  const meta = {
    currency: 'USD',
    symbol,
    exchangeName: symbol === 'NVDA' || symbol === 'AAPL' ? 'NMS' : 'PCX',
    fullExchangeName: symbol === 'NVDA' || symbol === 'AAPL' ? 'NasdaqGS' : 'NYSEArca',
    instrumentType: symbol === 'NVDA' || symbol === 'AAPL' ? 'EQUITY' : 'ETF',
    firstTradeDate: 917015400,
    regularMarketTime: Date.parse(`${asOf}T20:00:00Z`) / 1000,
    hasPrePostMarketData: true,
    gmtoffset: -14400,
    timezone: 'EDT',
    exchangeTimezoneName: 'America/New_York',
    regularMarketPrice: last?.splitAdjusted ?? 0,
    longName: symbol,
    shortName: symbol,
    chartPreviousClose: bars[0]?.splitAdjusted ?? 0,
    priceHint: 2,
    currentTradingPeriod: {
      pre: period('08:00:00', '13:30:00'),
      regular: period('13:30:00', '20:00:00'),
      post: period('20:00:00', '24:00:00'),
    },
    dataGranularity: '1d',
    range: '',
    validRanges: ['1d', '5d', '1mo', '3mo', '6mo', '1y', '2y', '5y', '10y', 'ytd', 'max'],
  };
  const result =
    bars.length === 0
      ? { meta, indicators: { quote: [{}], adjclose: [{}] } }
      : {
          meta,
          timestamp: bars.map((b) => t(b.date)),
          ...(Object.keys(dividends).length || Object.keys(splits).length
            ? {
                events: {
                  ...(Object.keys(dividends).length ? { dividends } : {}),
                  ...(Object.keys(splits).length ? { splits } : {}),
                },
              }
            : {}),
          indicators: {
            quote: [
              {
                open: bars.map((b) => b.splitAdjusted),
                high: bars.map((b) => b.splitAdjusted),
                low: bars.map((b) => b.splitAdjusted),
                close: bars.map((b) => b.splitAdjusted),
                volume: bars.map((b) => b.volume),
              },
            ],
            adjclose: [{ adjclose: bars.map((b) => b.adjusted) }],
          },
        };
  return JSON.stringify({ chart: { result: [result], error: null } });
}

export const YAHOO_NOT_FOUND = {
  chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } },
};

const ETFS = ['SPY', 'VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV'];

/**
 * Yahoo's v10 quoteSummary answer (formatted=false) with the modules the adapter asks for: NVIDIA's
 * figures (hand-written) for any stock, quoteType ETF for the fixture's funds.
 */
export function yahooQuoteSummaryBody(symbol: string): string {
  return JSON.stringify({
    quoteSummary: {
      result: [
        {
          assetProfile: {
            maxAge: 86400,
            industry: 'Semiconductors',
            industryKey: 'semiconductors',
            sector: 'Technology',
            sectorKey: 'technology',
            fullTimeEmployees: 29600,
            companyOfficers: [],
          },
          defaultKeyStatistics: {
            maxAge: 1,
            priceHint: 2,
            category: null,
            fundFamily: null,
            legalType: null,
            lastSplitFactor: '10:1',
            enterpriseValue: 3_190_000_000_000,
            priceToBook: 65.5,
          },
          price: {
            maxAge: 1,
            priceHint: 2,
            regularMarketPrice: 131.88,
            currency: 'USD',
            currencySymbol: '$',
            exchange: 'NMS',
            exchangeName: 'NasdaqGS',
            quoteType: ETFS.includes(symbol) ? 'ETF' : 'EQUITY',
            symbol,
            underlyingSymbol: null,
            shortName: 'NVIDIA Corporation',
            longName: 'NVIDIA Corporation',
            marketCap: 3_244_000_000_000,
            fromCurrency: null,
            toCurrency: null,
            lastMarket: null,
            marketState: 'CLOSED',
          },
          summaryDetail: {
            maxAge: 1,
            priceHint: 2,
            currency: 'USD',
            fromCurrency: null,
            toCurrency: null,
            lastMarket: null,
            algorithm: null,
            tradeable: false,
            trailingPE: 76.2,
            priceToSalesTrailing12Months: 40.4,
            beta: 1.68,
            dividendYield: 0.0003,
            marketCap: 3_244_000_000_000,
          },
        },
      ],
      error: null,
    },
  });
}

/** Tiingo's `/tiingo/daily/<ticker>/prices` answer for [from, to] on `asOf`. */
export function tiingoPricesBody(
  world: World,
  symbol: string,
  from: string,
  to: string,
  asOf: string,
): string {
  return JSON.stringify(
    serviceBars(world, symbol, from, to, asOf).map((b) => ({
      date: `${b.date}T00:00:00.000Z`,
      close: b.raw,
      high: b.raw,
      low: b.raw,
      open: b.raw,
      volume: b.rawVolume,
      adjClose: b.adjusted,
      adjHigh: b.adjusted,
      adjLow: b.adjusted,
      adjOpen: b.adjusted,
      adjVolume: b.volume,
      divCash: b.dividend,
      splitFactor: b.split,
    })),
  );
}

export const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Yahoo! - 502 Bad Gateway</title></head><body><h1>Will be right back...</h1></body></html>';

export interface RecordedRequest {
  url: string;
  headers: Record<string, string>;
}

const json = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'application/json;charset=utf-8', ...headers } });

/**
 * A `fetch` that answers as Yahoo and Tiingo would on `asOf`, recording each request. `override`
 * answers a request first when it returns a response (429s, 500s, HTML pages, …); `n` counts the
 * requests to that URL so far (1 for the first).
 */
export function fakeServices(
  world: World,
  o: { asOf: string; tiingoKey?: string; override?: (url: URL, n: number) => Response | undefined },
): { fetch: FetchLike; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const seen = new Map<string, number>();
  const fetchImpl: FetchLike = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    requests.push({ url: url.href, headers });
    const n = (seen.get(url.href) ?? 0) + 1;
    seen.set(url.href, n);
    const forced = o.override?.(url, n);
    if (forced) return forced;
    if (url.host === 'finance.yahoo.com')
      return new Response('<!DOCTYPE html><html><head><title>Apple Inc. (AAPL)</title></head></html>', {
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'set-cookie':
            'A3=d=AQABBfixture&S=AQAAAfixture; Expires=Fri, 27 Nov 2099 00:00:00 GMT; Max-Age=31557600; Domain=.yahoo.com; Path=/; SameSite=None; Secure; HttpOnly',
        },
      });
    if (url.pathname === '/v1/test/getcrumb')
      return new Response('fixtureCrumb1', { status: 200, headers: { 'content-type': 'text/plain' } });
    const chart = /^\/v8\/finance\/chart\/([^/]+)$/.exec(url.pathname);
    if (chart) {
      const symbol = decodeURIComponent(chart[1]!);
      const p1 = Number(url.searchParams.get('period1'));
      const p2 = Number(url.searchParams.get('period2'));
      const body = yahooChartBody(world, symbol, day(p1), day(p2 - 1), o.asOf);
      return json(body, world.bars.has(symbol) ? 200 : 404);
    }
    const summary = /^\/v10\/finance\/quoteSummary\/([^/]+)$/.exec(url.pathname);
    if (summary) return json(yahooQuoteSummaryBody(decodeURIComponent(summary[1]!)));
    const tiingo = /^\/tiingo\/daily\/([^/]+)(\/prices)?$/.exec(url.pathname);
    if (url.host === 'api.tiingo.com' && tiingo) {
      if (headers.authorization !== `Token ${o.tiingoKey}`) return json('{"detail":"Invalid token."}', 401);
      const symbol = decodeURIComponent(tiingo[1]!).toUpperCase();
      if (!world.bars.has(symbol))
        return json(JSON.stringify({ detail: `Error: Ticker '${symbol.toLowerCase()}' not found` }), 404);
      if (!tiingo[2])
        return json(
          JSON.stringify({
            ticker: symbol,
            name: `${symbol} Fixture Inc`,
            exchangeCode: 'NASDAQ',
            startDate: '1999-01-22',
            endDate: o.asOf,
            description: '',
          }),
        );
      const from = url.searchParams.get('startDate') ?? '0000-01-01';
      const to = url.searchParams.get('endDate') ?? o.asOf;
      return json(tiingoPricesBody(world, symbol, from, to, o.asOf));
    }
    return new Response('not found', { status: 404 });
  };
  return { fetch: fetchImpl, requests };
}
