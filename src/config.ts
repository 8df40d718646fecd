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
  /** Signs API tokens; generated and kept in the data folder when unset. */
  jwtSecret: string | undefined;
  /** Lifetime of an API token. */
  tokenTtlSeconds: number;
  port: number;
  /** How long the API may reuse a symbol dashboard answer (ms); 0 turns the cache off. */
  apiCacheMs: number;
  /** Bounds of the dashboard answer cache: answers kept, and their total size in bytes. */
  apiCacheMaxEntries: number;
  apiCacheMaxBytes: number;
  /** Owner of the schema, for migrations (external servers); unset = `databaseUrl` migrates too. */
  ownerDatabaseUrl: string | undefined;
  /** Interface the API listens on; anything but loopback refuses to start while a user has the demo password. */
  host: string;
  /** Longest statement of the API (server-side `statement_timeout`; the client gives up 1 s later). */
  statementTimeoutMs: number;
  /** Longest statement of commands and batches. */
  commandStatementTimeoutMs: number;
  /** Longest wait to open a database connection or to get one from the pool. */
  dbConnectTimeoutMs: number;
  /** On SIGINT/SIGTERM, how long requests in flight may take to finish before their connections are cut. */
  shutdownTimeoutMs: number;
  /** Origins allowed by CORS; empty = CORS off (same origin only). */
  corsOrigins: string[];
  /** Log level of the API (pino): fatal, error, warn, info, debug (debug adds a line per request). */
  logLevel: string;
  /** Login attempts per window per username and per client address; more answer 429. */
  loginLimitPerUser: number;
  loginLimitPerAddress: number;
  loginWindowSeconds: number;
  /** Largest request body accepted (bytes); larger answers 413. */
  bodyLimitBytes: number;
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
  jwtSecret: undefined,
  tokenTtlSeconds: 900,
  port: 3000,
  apiCacheMs: 5000,
  apiCacheMaxEntries: 500,
  apiCacheMaxBytes: 64 * 1024 * 1024,
  ownerDatabaseUrl: undefined,
  host: '127.0.0.1',
  statementTimeoutMs: 10_000,
  commandStatementTimeoutMs: 30 * 60_000,
  dbConnectTimeoutMs: 3000,
  shutdownTimeoutMs: 10_000,
  corsOrigins: [],
  logLevel: 'info',
  loginLimitPerUser: 10,
  loginLimitPerAddress: 100,
  loginWindowSeconds: 60,
  bodyLimitBytes: 1024 * 1024,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
      jwtSecret: env.FU_JWT_SECRET || undefined,
      tokenTtlSeconds: intFromEnv('FU_TOKEN_TTL_SECONDS', env.FU_TOKEN_TTL_SECONDS),
      port: intFromEnv('PORT', env.PORT),
      apiCacheMs: env.FU_API_CACHE_MS === '0' ? 0 : intFromEnv('FU_API_CACHE_MS', env.FU_API_CACHE_MS),
      apiCacheMaxEntries: intFromEnv('FU_API_CACHE_ENTRIES', env.FU_API_CACHE_ENTRIES),
      apiCacheMaxBytes: intFromEnv('FU_API_CACHE_BYTES', env.FU_API_CACHE_BYTES),
      ownerDatabaseUrl: env.FU_OWNER_DATABASE_URL || undefined,
      host: env.FU_HOST || undefined,
      statementTimeoutMs: intFromEnv('FU_STATEMENT_TIMEOUT_MS', env.FU_STATEMENT_TIMEOUT_MS),
      commandStatementTimeoutMs: intFromEnv(
        'FU_COMMAND_STATEMENT_TIMEOUT_MS',
        env.FU_COMMAND_STATEMENT_TIMEOUT_MS,
      ),
      dbConnectTimeoutMs: intFromEnv('FU_DB_CONNECT_TIMEOUT_MS', env.FU_DB_CONNECT_TIMEOUT_MS),
      shutdownTimeoutMs: intFromEnv('FU_SHUTDOWN_TIMEOUT_MS', env.FU_SHUTDOWN_TIMEOUT_MS),
      corsOrigins: env.FU_CORS_ORIGINS
        ? env.FU_CORS_ORIGINS.split(',')
            .map((o) => o.trim())
            .filter((o) => o !== '')
        : undefined,
      logLevel: env.FU_LOG_LEVEL || undefined,
      loginLimitPerUser: intFromEnv('FU_LOGIN_LIMIT_PER_USER', env.FU_LOGIN_LIMIT_PER_USER),
      loginLimitPerAddress: intFromEnv('FU_LOGIN_LIMIT_PER_ADDRESS', env.FU_LOGIN_LIMIT_PER_ADDRESS),
      loginWindowSeconds: intFromEnv('FU_LOGIN_WINDOW_SECONDS', env.FU_LOGIN_WINDOW_SECONDS),
      bodyLimitBytes: intFromEnv('FU_BODY_LIMIT_BYTES', env.FU_BODY_LIMIT_BYTES),
      readPath: env.FU_READ_PATH ? parseReadPath(env.FU_READ_PATH) : undefined,
      dualWrite: env.FU_DUAL_WRITE
        ? !['0', 'false', 'off'].includes(env.FU_DUAL_WRITE.toLowerCase())
        : undefined,
    }),
  };
  if (!LOG_LEVELS.includes(merged.logLevel))
    throw new Error(`FU_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${merged.logLevel}"`);
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
