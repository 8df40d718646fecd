import { addDays, weekdaysEndingOn } from '../dates.ts';
import type { PositionType } from '../db/schema.ts';
import { Random } from './random.ts';

/**
 * A deterministic synthetic market whose factor structure is known.
 *
 * Eight independent latent drivers (market, value, growth, momentum, quality, size, low-vol, rates)
 * build the proxy ETFs: each proxy is a market loading plus its own style driver, which gives the
 * 0.8–0.95 correlations with SPY that the real ETFs show. A stock's daily return is
 *   r = alpha + Σ_j beta_j × proxy_j + eps,   eps ~ N(0, idioVol²)
 * over the six ridge proxies (VTV, VUG, MTUM, QUAL, IWM, USMV), so its planted betas are exactly what
 * the ridge model estimates; an estimate can only differ by the noise eps and the ridge shrinkage.
 */

export const RIDGE_PROXIES = ['VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV'] as const;
export const DEMO_END_DATE = '2026-10-30';
const TRADING_DAYS_PER_YEAR = 252;
/** The demo portfolios hold 40 distinct stocks. */
const MIN_STOCKS = 40;

interface ProxySpec {
  symbol: string;
  /** Loading on the market driver. */
  market: number;
  /** Annual volatility of the proxy's own driver. */
  ownVol: number;
  name: string;
}

/** SPY is the market driver itself; the others load on it plus a driver of their own. */
const PROXIES: readonly ProxySpec[] = [
  { symbol: 'SPY', market: 1, ownVol: 0.01, name: 'SPDR S&P 500 ETF' },
  { symbol: 'VTV', market: 0.92, ownVol: 0.05, name: 'Vanguard Value ETF' },
  { symbol: 'VUG', market: 1.08, ownVol: 0.06, name: 'Vanguard Growth ETF' },
  { symbol: 'MTUM', market: 1.02, ownVol: 0.08, name: 'iShares MSCI USA Momentum Factor ETF' },
  { symbol: 'QUAL', market: 0.98, ownVol: 0.04, name: 'iShares MSCI USA Quality Factor ETF' },
  { symbol: 'IWM', market: 1.12, ownVol: 0.09, name: 'iShares Russell 2000 ETF' },
  { symbol: 'USMV', market: 0.72, ownVol: 0.05, name: 'iShares MSCI USA Min Vol Factor ETF' },
  { symbol: 'TLT', market: -0.15, ownVol: 0.13, name: 'iShares 20+ Year Treasury Bond ETF' },
];
const MARKET_DRIFT = 0.08;
const MARKET_VOL = 0.16;

const SECTORS: Record<string, readonly string[]> = {
  'Information Technology': ['Software', 'Semiconductors', 'IT Services'],
  'Health Care': ['Pharmaceuticals', 'Health Care Equipment', 'Biotechnology'],
  Financials: ['Banks', 'Insurance', 'Capital Markets'],
  'Consumer Discretionary': ['Retail', 'Automobiles', 'Hotels & Restaurants'],
  'Communication Services': ['Media', 'Interactive Media', 'Telecom Services'],
  Industrials: ['Machinery', 'Aerospace & Defense', 'Transportation'],
  'Consumer Staples': ['Food Products', 'Beverages', 'Household Products'],
  Energy: ['Oil & Gas', 'Energy Equipment'],
  Utilities: ['Electric Utilities', 'Multi-Utilities'],
  'Real Estate': ['REITs', 'Real Estate Services'],
  Materials: ['Chemicals', 'Metals & Mining'],
};

export interface DemoCompany {
  symbol: string;
  companyName: string;
  sector: string;
  industry: string;
  marketCap: number;
  enterpriseValue: number;
  peRatio: number;
  psRatio: number;
  pbRatio: number;
}

export interface DemoStock {
  symbol: string;
  /** Planted betas on RIDGE_PROXIES, in that order. */
  betas: Float64Array;
  alpha: number;
  /** Daily standard deviation of the idiosyncratic return. */
  idioVol: number;
}

export interface DemoPosition {
  symbol: string;
  positionType: PositionType;
  quantity: number;
  entryPrice: number | null;
  entryDate: string | null;
  underlyingSymbol: string | null;
  strikePrice: number | null;
  expirationDate: string | null;
  impliedVolatility: number | null;
}

export interface DemoPortfolio {
  name: string;
  equity: number;
  positions: DemoPosition[];
}

export interface DemoMarket {
  dates: string[];
  /** Every priced symbol: proxies first, then stocks. */
  symbols: string[];
  /** closes[s][t] for symbols[s] on dates[t]. */
  closes: Float64Array[];
  stocks: DemoStock[];
  companies: DemoCompany[];
  portfolios: DemoPortfolio[];
}

export interface DemoOptions {
  seed?: number;
  stocks?: number;
  days?: number;
  endDate?: string;
}

function tickers(rng: Random, count: number, taken: Set<string>): string[] {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const out: string[] = [];
  while (out.length < count) {
    const len = rng.int(3, 4);
    let t = '';
    for (let i = 0; i < len; i++) t += letters[rng.int(0, 25)];
    if (!taken.has(t)) {
      taken.add(t);
      out.push(t);
    }
  }
  return out;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function generateDemoMarket(options: DemoOptions = {}): DemoMarket {
  const {
    seed = 20241231,
    stocks: stockCount = 500,
    days = 3 * TRADING_DAYS_PER_YEAR,
    endDate = DEMO_END_DATE,
  } = options;
  if (!Number.isInteger(stockCount) || stockCount < MIN_STOCKS) {
    throw new Error(
      `the demo market needs at least ${MIN_STOCKS} stocks for its portfolios, got ${stockCount}`,
    );
  }
  const rng = new Random(seed);
  const dates = weekdaysEndingOn(endDate, days + 1);
  const T = dates.length;
  const daily = (annual: number) => annual / Math.sqrt(TRADING_DAYS_PER_YEAR);

  // Proxy returns from the latent drivers; row t = 0 has no return (it is the starting price).
  const proxyReturns = PROXIES.map(() => new Float64Array(T));
  for (let t = 1; t < T; t++) {
    const market = MARKET_DRIFT / TRADING_DAYS_PER_YEAR + daily(MARKET_VOL) * rng.normal();
    PROXIES.forEach((p, k) => {
      proxyReturns[k]![t] = p.market * market + daily(p.ownVol) * rng.normal();
    });
  }
  const ridgeIndex = RIDGE_PROXIES.map((s) => PROXIES.findIndex((p) => p.symbol === s));

  const taken = new Set(PROXIES.map((p) => p.symbol));
  const stockSymbols = tickers(rng, stockCount, taken);
  const sectorNames = Object.keys(SECTORS);
  const stocks: DemoStock[] = [];
  const companies: DemoCompany[] = [];
  const stockReturns: Float64Array[] = [];
  for (const symbol of stockSymbols) {
    const betas = Float64Array.from(RIDGE_PROXIES, () => round(0.17 + 0.25 * rng.normal(), 4));
    const idioVol = daily(rng.uniform(0.15, 0.3));
    const alpha = rng.uniform(-0.05, 0.05) / TRADING_DAYS_PER_YEAR;
    stocks.push({ symbol, betas, alpha, idioVol });
    const r = new Float64Array(T);
    for (let t = 1; t < T; t++) {
      let x = alpha + idioVol * rng.normal();
      for (let j = 0; j < betas.length; j++) x += betas[j]! * proxyReturns[ridgeIndex[j]!]![t]!;
      r[t] = x;
    }
    stockReturns.push(r);
    const sector = rng.pick(sectorNames);
    const marketCap = round(Math.exp(rng.uniform(Math.log(2e9), Math.log(2e12))), -6);
    const pe = rng.next() < 0.06 ? -rng.uniform(5, 60) : rng.uniform(8, 45);
    companies.push({
      symbol,
      companyName: `${symbol[0]}${symbol.slice(1).toLowerCase()} ${rng.pick(['Corp', 'Inc', 'Holdings', 'Group', 'Co'])}`,
      sector,
      industry: rng.pick(SECTORS[sector]!),
      marketCap,
      enterpriseValue: round(marketCap * rng.uniform(0.85, 1.35), -6),
      peRatio: round(pe, 2),
      psRatio: round(rng.uniform(0.5, 15), 2),
      pbRatio: round(rng.uniform(0.8, 12), 2),
    });
  }

  const toCloses = (returns: Float64Array, start: number) => {
    const c = new Float64Array(T);
    c[0] = start;
    for (let t = 1; t < T; t++) c[t] = c[t - 1]! * (1 + returns[t]!);
    return c.map((x) => round(x, 6));
  };
  const closes = [
    ...proxyReturns.map((r) => toCloses(r, rng.uniform(40, 450))),
    ...stockReturns.map((r) => toCloses(r, Math.exp(rng.uniform(Math.log(15), Math.log(600))))),
  ];
  const symbols = [...PROXIES.map((p) => p.symbol), ...stockSymbols];
  const market: DemoMarket = { dates, symbols, closes, stocks, companies, portfolios: [] };
  market.portfolios = demoPortfolios(rng, market);
  return market;
}

/** Long/short equity, an ETF allocation, and an options overlay, sized against their equity. */
export type PricedUniverse = Pick<DemoMarket, 'dates' | 'symbols' | 'closes'> & {
  stocks: { symbol: string }[];
};

/** Also used to give real price data (the benchmarks) the same three portfolios. */
export function demoPortfolios(rng: Random, m: PricedUniverse): DemoPortfolio[] {
  const last = m.dates.length - 1;
  const endDate = m.dates[last]!;
  const closeOf = (symbol: string, t = last) => m.closes[m.symbols.indexOf(symbol)]![t]!;
  const entry = Math.max(0, last - 60);
  const entryDate = m.dates[entry]!;
  const shares = (symbol: string, dollars: number) =>
    Math.max(1, Math.round(dollars / closeOf(symbol, entry)));
  const stock = (symbol: string, dollars: number): DemoPosition => {
    const q = shares(symbol, Math.abs(dollars));
    return {
      symbol,
      positionType: dollars > 0 ? 'LONG' : 'SHORT',
      quantity: dollars > 0 ? q : -q,
      entryPrice: round(closeOf(symbol, entry), 4),
      entryDate,
      underlyingSymbol: null,
      strikePrice: null,
      expirationDate: null,
      impliedVolatility: null,
    };
  };
  const option = (
    underlying: string,
    type: PositionType,
    contracts: number,
    moneyness: number,
    expiry: string,
  ) => {
    const strike = round(closeOf(underlying) * moneyness, 0) || 1;
    return {
      symbol: '',
      positionType: type,
      quantity: type === 'SC' || type === 'SP' ? -contracts : contracts,
      entryPrice: null,
      entryDate,
      underlyingSymbol: underlying,
      strikePrice: strike,
      expirationDate: expiry,
      impliedVolatility: rng.next() < 0.5 ? round(rng.uniform(0.2, 0.45), 3) : null,
    } satisfies DemoPosition;
  };
  const names = m.stocks.map((s) => s.symbol);
  const shuffled = rng.shuffle(names);
  const inDays = (n: number) => addDays(endDate, n);

  const longShort: DemoPortfolio = {
    name: 'Long/Short Equity',
    equity: 10_000_000,
    positions: [
      ...shuffled.slice(0, 20).map((s) => stock(s, rng.uniform(300_000, 700_000))),
      ...shuffled.slice(20, 30).map((s) => stock(s, -rng.uniform(200_000, 500_000))),
    ],
  };
  const etfs: DemoPortfolio = {
    name: 'ETF Allocation',
    equity: 5_000_000,
    positions: [
      stock('SPY', 2_000_000),
      stock('VTV', 800_000),
      stock('QUAL', 700_000),
      stock('TLT', 1_000_000),
      stock('IWM', -400_000),
    ],
  };
  const overlayNames = shuffled.slice(30, 40);
  const options: DemoPortfolio = {
    name: 'Options Overlay',
    equity: 3_000_000,
    positions: [
      ...overlayNames.slice(0, 6).map((s) => stock(s, rng.uniform(150_000, 350_000))),
      option(overlayNames[0]!, 'LC', 20, 1.05, inDays(49)),
      option(overlayNames[1]!, 'LP', 15, 0.95, inDays(77)),
      option(overlayNames[2]!, 'SC', 10, 1.1, inDays(21)),
      option(overlayNames[3]!, 'SP', 12, 0.9, inDays(105)),
      option(overlayNames[6]!, 'LC', 8, 1.0, inDays(168)),
      option(overlayNames[7]!, 'LP', 10, 1.0, inDays(-10)), // already expired on the last date
    ],
  };
  return [longShort, etfs, options];
}
