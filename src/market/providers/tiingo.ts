import { limitsFor, ProviderHttp, type AdapterPolicy } from './http.ts';
import {
  ProviderError,
  type CompanyProfile,
  type CorporateAction,
  type FetchLike,
  type MarketDataProvider,
  type PriceHistory,
} from './types.ts';

/** Tiingo's free plan allows 50 requests an hour per key in bursts; paid plans far more. */
export const TIINGO_LIMITS = { requestsPerSecond: 1, concurrency: 2 };
const BASE = 'https://api.tiingo.com/tiingo/daily';

/** One row of Tiingo's end-of-day answer (`/tiingo/daily/<ticker>/prices`). */
interface TiingoBar {
  date: string;
  close: number;
  adjClose: number;
  volume: number;
  divCash: number;
  splitFactor: number;
}

/**
 * Tiingo end-of-day prices: raw and CRSP-style adjusted closes, with `divCash` and `splitFactor`
 * on each day (the corporate actions). The key travels in the `Authorization: Token …` header,
 * never in a URL, and is scrubbed from every message. Profiles: Tiingo's ticker metadata (name
 * only; its fundamentals are a separate paid product).
 */
export function tiingoProvider(
  fetchImpl: FetchLike,
  apiKey: string | undefined,
  policy: AdapterPolicy,
  log: (message: string) => void = () => undefined,
): MarketDataProvider {
  if (!apiKey) throw new Error('the tiingo provider needs an API key: set FU_TIINGO_API_KEY');
  const limits = limitsFor(TIINGO_LIMITS, policy);
  const http = new ProviderHttp(
    fetchImpl,
    { ...policy, ...limits },
    {
      secrets: [apiKey],
      onRetry: (m) => log(`tiingo: ${m}`),
    },
  );

  async function getJson(symbol: string, url: string): Promise<unknown> {
    const response = await http.fetch(url, {
      headers: { Authorization: `Token ${apiKey}`, 'Content-Type': 'application/json' },
    });
    const body = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new ProviderError(
        `Tiingo: ${symbol}: the answer is not JSON (HTTP ${response.status}, ${body.length} bytes)`,
        'bad_answer',
        response.status,
      );
    }
    if (!response.ok) {
      const detail = (parsed as { detail?: unknown } | null)?.detail;
      const message = http.redact(typeof detail === 'string' ? detail : `HTTP ${response.status}`);
      const kind =
        response.status === 404
          ? 'not_found'
          : response.status === 401 || response.status === 403
            ? 'auth'
            : 'http';
      throw new ProviderError(
        `Tiingo: ${symbol}: ${message} (HTTP ${response.status})`,
        kind,
        response.status,
      );
    }
    return parsed;
  }

  const ticker = (symbol: string) => encodeURIComponent(symbol.toLowerCase());

  return {
    name: 'tiingo',
    limits,
    wholeHistory: false,
    async dailyBars(symbol, from, to): Promise<PriceHistory> {
      const q = new URLSearchParams({ startDate: from, endDate: to, resampleFreq: 'daily', format: 'json' });
      const rows = await getJson(symbol, `${BASE}/${ticker(symbol)}/prices?${q}`);
      if (!Array.isArray(rows))
        throw new ProviderError(`Tiingo: ${symbol}: expected a list of daily prices`, 'bad_answer');
      const actions: CorporateAction[] = [];
      const bars = (rows as TiingoBar[]).map((r) => {
        const date = typeof r.date === 'string' ? r.date.slice(0, 10) : String(r.date);
        if (typeof r.splitFactor === 'number' && r.splitFactor !== 1)
          actions.push({ kind: 'split', date, ratio: r.splitFactor });
        if (typeof r.divCash === 'number' && r.divCash > 0)
          actions.push({ kind: 'dividend', date, amount: r.divCash });
        return { date, close: r.close, adjClose: r.adjClose, volume: r.volume ?? null };
      });
      return { symbol, bars, actions };
    },
    async profile(symbol): Promise<CompanyProfile> {
      const meta = (await getJson(symbol, `${BASE}/${ticker(symbol)}`)) as { name?: unknown } | null;
      const name = typeof meta?.name === 'string' && meta.name.trim() ? meta.name.trim() : null;
      return {
        symbol,
        fund: false, // Tiingo's metadata does not say
        companyName: name,
        sector: null,
        industry: null,
        marketCap: null,
        price: null,
        enterpriseValue: null,
        peRatio: null,
        psRatio: null,
        pbRatio: null,
        beta: null,
        dividendYield: null,
      };
    },
  };
}
