/**
 * What every market data provider answers, whatever its wire format. Adapters turn a service's
 * response into these shapes and nothing more: validation, incremental logic and storage live in
 * `../fetch-prices.ts` and `../fetch-profiles.ts`, once for all providers.
 */

/** The HTTP client an adapter is given (the global `fetch` in production, a recorder in tests). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * One trading day of a symbol. `adjClose` is split- and dividend-adjusted as of the answer's date
 * (the close the store keeps, METHODOLOGY §1); `close` is the raw close, null when the source gives
 * one close only (a file). `open`/`high`/`low` only where they are on the same basis as `adjClose`.
 */
export interface DailyBar {
  date: string;
  close: number | null;
  adjClose: number;
  volume: number | null;
  open?: number | null;
  high?: number | null;
  low?: number | null;
}

export type CorporateAction =
  { kind: 'split'; date: string; ratio: number } | { kind: 'dividend'; date: string; amount: number };

export interface PriceHistory {
  symbol: string;
  bars: DailyBar[];
  /** Splits and dividends with an ex-date in the answered range (empty when the source has none). */
  actions: CorporateAction[];
}

/** A company profile; each field null when the provider does not have it. */
export interface CompanyProfile {
  symbol: string;
  /**
   * True for a fund (ETF, mutual fund): not a company. Not stored as a profile, since the universe
   * takes a priced symbol without a profile for an ETF (universe.ts).
   */
  fund: boolean;
  companyName: string | null;
  sector: string | null;
  industry: string | null;
  marketCap: number | null;
  /** The price the market cap was computed at (the latest close, for the valuation metrics). */
  price: number | null;
  enterpriseValue: number | null;
  peRatio: number | null;
  psRatio: number | null;
  pbRatio: number | null;
  beta: number | null;
  dividendYield: number | null;
}

export interface ProviderLimits {
  /** Requests per second, spread evenly. */
  requestsPerSecond: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export interface MarketDataProvider {
  readonly name: string;
  readonly limits: ProviderLimits;
  /**
   * True when the source holds its whole history at hand (a file): the fetch then asks it for
   * everything and compares with the store, instead of relying on reported corporate actions.
   */
  readonly wholeHistory: boolean;
  /**
   * Bars with dates in [from, to] (inclusive). `null` when this source knows nothing of the symbol
   * and that is not a fault (a file that does not list it); a network provider throws instead.
   */
  dailyBars(symbol: string, from: string, to: string): Promise<PriceHistory | null>;
  /** Symbols the source offers beyond the universe (a file's symbols); network providers have none. */
  listSymbols?(): Promise<string[]>;
  /** Company profile, when the provider has profiles. */
  profile?(symbol: string): Promise<CompanyProfile>;
}

export type ProviderErrorKind = 'http' | 'timeout' | 'network' | 'not_found' | 'bad_answer' | 'auth';

/** A provider could not answer for a symbol; the message is readable and holds no secret. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: ProviderErrorKind,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
