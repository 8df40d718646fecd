import type { Config } from '../../config.ts';
import { fileProvider } from './file.ts';
import type { AdapterPolicy } from './http.ts';
import { tiingoProvider } from './tiingo.ts';
import type { FetchLike, MarketDataProvider } from './types.ts';
import { yahooProvider } from './yahoo.ts';

export const PROVIDERS = ['file', 'yahoo', 'tiingo'] as const;

/**
 * The provider named `name` (default: the configured one), built with its HTTP client injected:
 * the global `fetch` in production, a recorder in tests. Throws a readable error for an unknown
 * name, a `file` provider without a path, or a keyed provider without its key.
 */
export function createProvider(
  config: Config,
  options: { name?: string; fetch?: FetchLike; log?: (message: string) => void } = {},
): MarketDataProvider {
  const name = options.name ?? config.marketDataProvider;
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const policy: AdapterPolicy = {
    timeoutMs: config.marketDataTimeoutMs,
    retries: config.marketDataRetries,
    ...(config.marketDataRateLimit !== undefined ? { requestsPerSecond: config.marketDataRateLimit } : {}),
    ...(config.marketDataConcurrency !== undefined ? { concurrency: config.marketDataConcurrency } : {}),
  };
  switch (name) {
    case 'file':
      if (!config.marketDataPath)
        throw new Error('the file provider needs a prices file or folder: set FU_MARKET_DATA_PATH');
      return fileProvider(config.marketDataPath);
    case 'yahoo':
      return yahooProvider(fetchImpl, policy, options.log);
    case 'tiingo':
      return tiingoProvider(fetchImpl, config.tiingoApiKey, policy, options.log);
    default:
      throw new Error(`unknown market data provider "${name}": choose one of ${PROVIDERS.join(', ')}`);
  }
}

/** True when the daily batch has a market data source: a network provider, or a file path. */
export function marketDataConfigured(config: Config): boolean {
  return config.marketDataProvider !== 'file' || config.marketDataPath !== undefined;
}
