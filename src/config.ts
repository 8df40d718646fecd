import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { READ_PATHS, type ReadPath } from './portfolios/analytics.ts';

/**
 * Runtime configuration. Precedence: environment variables, then the JSON config file
 * (`factor-universe.config.json` in the working directory, or the path in `FU_CONFIG`),
 * then the defaults below.
 */
export interface Config {
  /** External PostgreSQL server. When unset, the embedded server is started. */
  databaseUrl: string | undefined;
  /** Root for everything the program writes locally (embedded cluster, demo artefacts). */
  dataDir: string;
  /** Port of the embedded server when this process starts it. */
  embeddedPort: number;
  /** Connections in the pool; batches run concurrently on their own connections. */
  poolSize: number;
  /** Password given to the `demo` user when the demo market is loaded. */
  demoPassword: string;
  /** Write the legacy per-position exposures too, until the comparison says they can go. */
  dualWrite: boolean;
  /** Where portfolio exposures read betas: `symbol`, `position` (legacy) or `symbol_with_fallback`. */
  readPath: ReadPath;
  /** Write batches in flight at once (factor and portfolio phases), each on its own connection. */
  maxConcurrentBatches: number;
  /** Symbols per write batch (each its own transaction) of the factor phase. */
  factorBatchSize: number;
  /** Company profiles file the batch re-imports each day, if any. */
  companiesPath: string | undefined;
  /** Prices file or folder the batch imports each day, if any (the market data phase). */
  marketDataPath: string | undefined;
  /** Where the market data phase and `fetch` get prices and profiles: `file`, `yahoo` or `tiingo`. */
  marketDataProvider: string;
  /** Calendar days of history a symbol's first fetch takes (the factor windows need 365 + margin). */
  marketDataHistoryDays: number;
  /** Provider requests per second; unset = the provider's own default. */
  marketDataRateLimit: number | undefined;
  /** Provider requests in flight at once; unset = the provider's own default. */
  marketDataConcurrency: number | undefined;
  /** Timeout of one provider request (ms). */
  marketDataTimeoutMs: number;
  /** Retries of a provider request after a 429, a 5xx, a timeout or a network error. */
  marketDataRetries: number;
  /** Tiingo API key (secret: never logged, never in a message). */
  tiingoApiKey: string | undefined;
  /** Signs API tokens; generated and kept in the data folder when unset. */
  jwtSecret: string | undefined;
  /** Lifetime of an API token. */
  tokenTtlSeconds: number;
  port: number;
  /** How long the API may reuse a symbol dashboard answer (ms); 0 turns the cache off. */
  apiCacheMs: number;
}

const DEFAULTS: Config = {
  databaseUrl: undefined,
  dataDir: '.data',
  embeddedPort: 54329,
  poolSize: 10,
  demoPassword: 'demo-password',
  dualWrite: true,
  readPath: 'symbol',
  maxConcurrentBatches: 5,
  factorBatchSize: 15,
  companiesPath: undefined,
  marketDataPath: undefined,
  marketDataProvider: 'file',
  marketDataHistoryDays: 400,
  marketDataRateLimit: undefined,
  marketDataConcurrency: undefined,
  marketDataTimeoutMs: 30000,
  marketDataRetries: 4,
  tiingoApiKey: undefined,
  jwtSecret: undefined,
  tokenTtlSeconds: 900,
  port: 3000,
  apiCacheMs: 5000,
};

type FileConfig = Partial<Config>;

function readConfigFile(file: string): FileConfig {
  if (!existsSync(file)) return {};
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file}: expected a JSON object`);
  }
  return parsed as FileConfig;
}

function intFromEnv(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function positiveFromEnv(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${value}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const file = env.FU_CONFIG ?? path.join(cwd, 'factor-universe.config.json');
  const fromFile = readConfigFile(file);
  const merged: Config = {
    ...DEFAULTS,
    ...fromFile,
    ...definedOnly({
      databaseUrl: env.DATABASE_URL || undefined,
      dataDir: env.FU_DATA_DIR || undefined,
      embeddedPort: intFromEnv('FU_PG_PORT', env.FU_PG_PORT),
      poolSize: intFromEnv('FU_POOL_SIZE', env.FU_POOL_SIZE),
      demoPassword: env.FU_DEMO_PASSWORD || undefined,
      maxConcurrentBatches: intFromEnv('MAX_CONCURRENT_BATCHES', env.MAX_CONCURRENT_BATCHES),
      factorBatchSize: intFromEnv('FU_FACTOR_BATCH_SIZE', env.FU_FACTOR_BATCH_SIZE),
      companiesPath: env.FU_COMPANIES_PATH || undefined,
      marketDataPath: env.FU_MARKET_DATA_PATH || undefined,
      marketDataProvider: env.FU_MARKET_DATA_PROVIDER || undefined,
      marketDataHistoryDays: intFromEnv('FU_MARKET_DATA_HISTORY_DAYS', env.FU_MARKET_DATA_HISTORY_DAYS),
      marketDataRateLimit: positiveFromEnv('FU_MARKET_DATA_RATE_LIMIT', env.FU_MARKET_DATA_RATE_LIMIT),
      marketDataConcurrency: intFromEnv('FU_MARKET_DATA_CONCURRENCY', env.FU_MARKET_DATA_CONCURRENCY),
      marketDataTimeoutMs: intFromEnv('FU_MARKET_DATA_TIMEOUT_MS', env.FU_MARKET_DATA_TIMEOUT_MS),
      marketDataRetries:
        env.FU_MARKET_DATA_RETRIES === '0'
          ? 0
          : intFromEnv('FU_MARKET_DATA_RETRIES', env.FU_MARKET_DATA_RETRIES),
      tiingoApiKey: env.FU_TIINGO_API_KEY || undefined,
      jwtSecret: env.FU_JWT_SECRET || undefined,
      tokenTtlSeconds: intFromEnv('FU_TOKEN_TTL_SECONDS', env.FU_TOKEN_TTL_SECONDS),
      port: intFromEnv('PORT', env.PORT),
      apiCacheMs: env.FU_API_CACHE_MS === '0' ? 0 : intFromEnv('FU_API_CACHE_MS', env.FU_API_CACHE_MS),
      readPath: env.FU_READ_PATH ? parseReadPath(env.FU_READ_PATH) : undefined,
      dualWrite: env.FU_DUAL_WRITE
        ? !['0', 'false', 'off'].includes(env.FU_DUAL_WRITE.toLowerCase())
        : undefined,
    }),
  };
  return { ...merged, readPath: parseReadPath(merged.readPath), dataDir: path.resolve(cwd, merged.dataDir) };
}

export function parseReadPath(s: string): ReadPath {
  if (!(READ_PATHS as readonly string[]).includes(s))
    throw new Error(`read path must be one of ${READ_PATHS.join(', ')}, got "${s}"`);
  return s as ReadPath;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
