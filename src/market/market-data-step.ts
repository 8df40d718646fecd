import type pg from 'pg';
import type { Config } from '../config.ts';
import { fetchPrices, type FetchPricesResult } from './fetch-prices.ts';
import { createProvider, marketDataConfigured } from './providers/index.ts';
import type { FetchLike } from './providers/types.ts';

/**
 * The daily batch's market data step for `date`: the configured provider's prices through `date`
 * (a file: everything it holds), incrementally, through the one code path of `fetchPrices`.
 */
export async function updateMarketData(
  pool: pg.Pool,
  config: Config,
  date: string,
  calendarSymbol: string,
  options: { fetch?: FetchLike; log?: (message: string) => void } = {},
): Promise<FetchPricesResult> {
  const provider = createProvider(config, options);
  return fetchPrices(pool, {
    provider,
    to: provider.wholeHistory ? '9999-12-31' : date,
    historyDays: config.marketDataHistoryDays,
    calendarSymbol,
  });
}

/**
 * Before a batch run for "the latest day": the configured source's prices through today, so that
 * the latest trading day in the store is the one the provider has just closed (a run without a
 * date would otherwise pick yesterday's). Nothing when no source is configured.
 */
export async function fetchLatest(
  pool: pg.Pool,
  config: Config,
  calendarSymbol: string,
): Promise<FetchPricesResult | undefined> {
  if (!marketDataConfigured(config)) return undefined;
  return updateMarketData(pool, config, new Date().toISOString().slice(0, 10), calendarSymbol);
}
