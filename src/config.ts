import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where portfolio exposures read betas: per symbol, per position (legacy), or symbol then position. */
export const READ_PATHS = ['symbol', 'position', 'symbol_with_fallback'] as const;
export type ReadPath = (typeof READ_PATHS)[number];

/**
 * Runtime configuration. Precedence: environment variables, then the JSON config file
 * (`factor-universe.config.json` in the working directory, or the path in `FU_CONFIG`),
 * then the defaults below. Every value is checked when it loads: a bad one is reported with the
 * variable or the file and key it came from, and so is a key of the file that means nothing.
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
  /** Where the market data stage and `fetch` get prices and profiles: `file`, `yahoo` or `tiingo`. */
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
  /**
   * How long a `serve` process reuses a signed-in user's row (ms): changes made through the same
   * process take effect at once, changes made elsewhere within this; 0 reads it on every request.
   */
  authCacheMs: number;
  port: number;
  /** How long the API may reuse a symbol dashboard answer (ms); 0 turns the cache off. */
  apiCacheMs: number;
  /** How many of the latest computed dates the API answers the dashboard from memory; 0: always SQL. */
  servedDates: number;
  /** Symbols per partition of the factor and metrics stages (one job each). */
  symbolShardSize: number;
  /** Portfolios per partition of the portfolio stage. */
  portfolioShardSize: number;
  /** Consecutive trading days per job of a backfill (each job loads its closes once for them). */
  blockDays: number;
  /** Cron expression of the daily run (pg-boss schedule), e.g. `30 22 * * 1-5`; unset = no schedule. */
  schedule: string | undefined;
  /** Time zone of the schedule, and of "today" for the scheduled run. */
  scheduleTimeZone: string;
  /** Jobs one worker process runs at once. */
  workerConcurrency: number;
  /** A job not finished after this long is taken as lost (its worker died) and retried. */
  jobExpireSeconds: number;
  /** Half-life (trading days) of the risk model's exponentially weighted covariance. */
  riskHalfLife: number;
  /** The benchmark of the tracking error (a symbol held at weight 1). */
  benchmark: string;
  /** A stress scenarios file replacing the shipped `src/risk/scenarios.json`, if any. */
  scenariosPath: string | undefined;
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
  /** A client must send a request's headers within this long (ms) of connecting, else its socket is closed. */
  httpHeadersTimeoutMs: number;
  /** ... and the whole request (headers and body) within this long (ms). */
  httpRequestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long (ms) without a new request. */
  httpKeepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long (ms) is closed. */
  httpIdleTimeoutMs: number;
  /** Connections open at once; a new one beyond is closed at once (other clients keep being served). */
  httpMaxConnections: number;
  /**
   * Proxies in front of the API (hops): 0 = none, X-Forwarded-* ignored. With N > 0 the client's
   * address and protocol are read from the N nearest X-Forwarded-* entries, and the session cookie is
   * always marked Secure (a proxy is taken to terminate TLS).
   */
  trustProxy: number;
}

/** The demo user's password unless FU_DEMO_PASSWORD says otherwise (for the loopback demo only). */
export const DEFAULT_DEMO_PASSWORD = 'demo-password';

const DEFAULTS: Config = {
  databaseUrl: undefined,
  dataDir: '.data',
  embeddedPort: 54329,
  poolSize: 10,
  demoPassword: DEFAULT_DEMO_PASSWORD,
  dualWrite: true,
  readPath: 'symbol',
  maxConcurrentBatches: 5,
  factorBatchSize: 1000,
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
  authCacheMs: 1000,
  port: 3000,
  apiCacheMs: 5000,
  servedDates: 2,
  symbolShardSize: 1000,
  portfolioShardSize: 1000,
  blockDays: 21,
  schedule: undefined,
  scheduleTimeZone: 'UTC',
  // two jobs at once: while one waits on PostgreSQL (reads, COPY) the other computes, so a backfill
  // keeps both of a small machine's cores busy (2024's backfill: 32.8 s with one, 21.2 s with two)
  workerConcurrency: 2,
  jobExpireSeconds: 30,
  riskHalfLife: 63,
  benchmark: 'SPY',
  scenariosPath: undefined,
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
  httpHeadersTimeoutMs: 10_000,
  httpRequestTimeoutMs: 30_000,
  httpKeepAliveTimeoutMs: 5_000,
  httpIdleTimeoutMs: 60_000,
  httpMaxConnections: 500,
  trustProxy: 0,
};

/**
 * Turns a value from the environment (always a string) or from the JSON file into the setting's
 * type, or throws a message saying what was expected ("must be …"); the caller adds where from.
 */
type Parser<T> = (raw: unknown) => T;

interface Setting<T> {
  /** The environment variable (FU_-prefixed). */
  env: string;
  /** Names read when `env` is unset: platform conventions (no warning) ... */
  conventions?: string[];
  /** ... and old names, read with a warning on stderr. */
  deprecated?: string[];
  parse: Parser<T>;
}

const shown = (raw: unknown) => JSON.stringify(raw) ?? String(raw);

const text: Parser<string> = (raw) => {
  if (typeof raw !== 'string' || raw === '') throw new Error(`must be a non-empty string, got ${shown(raw)}`);
  return raw;
};

const positive: Parser<number> = (raw) => {
  const n =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw)
        ? Number(raw)
        : NaN;
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`must be a positive number, got ${shown(raw)}`);
  return n;
};

/** A comma-separated list (or, in the file, an array of strings): "https://a.example, https://b.example". */
const list: Parser<string[]> = (raw) => {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (!items || items.some((x) => typeof x !== 'string'))
    throw new Error(`must be a comma-separated list, got ${shown(raw)}`);
  return (items as string[]).map((x) => x.trim()).filter((x) => x !== '');
};

/** An IANA time zone the runtime knows ("America/New_York", "UTC"). */
const timeZone: Parser<string> = (raw) => {
  const tz = text(raw);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new Error(`must be an IANA time zone such as America/New_York or UTC, got ${shown(raw)}`);
  }
  return tz;
};

/** A five-field cron expression (minute hour day-of-month month day-of-week), as pg-boss takes it. */
const cron: Parser<string> = (raw) => {
  const expr = text(raw).trim();
  if (!/^(\S+\s+){4}\S+$/.test(expr) || !/^[\d*,/\-\sA-Za-z]+$/.test(expr))
    throw new Error(`must be a cron expression of five fields, e.g. "30 22 * * 1-5", got ${shown(raw)}`);
  return expr;
};

function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  const what = min === 0 ? 'a whole number ≥ 0' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
  return (raw) => {
    const n =
      typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(
        `must be ${what}${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got ${shown(raw)}`,
      );
    return n;
  };
}

const port = integer(1, 65535);

/**
 * A rough estimate of the bits of entropy in a secret: its length times log2 of the alphabet its
 * characters are drawn from (hex digits 16; otherwise digits 10, each case 26, other ASCII 33,
 * anything else 128). An estimate of what a guesser must cover, not a measurement: a long dictionary
 * phrase still passes. Example: 64 random hex digits → 256 bits; "x" → 4.7 bits.
 */
export function estimatedEntropyBits(secret: string): number {
  const chars = [...secret];
  if (chars.length === 0) return 0;
  let alphabet: number;
  if (/^[0-9a-f]+$/.test(secret) || /^[0-9A-F]+$/.test(secret)) alphabet = 16;
  else {
    alphabet = 0;
    if (/[0-9]/.test(secret)) alphabet += 10;
    if (/[a-z]/.test(secret)) alphabet += 26;
    if (/[A-Z]/.test(secret)) alphabet += 26;
    if (/[^0-9A-Za-z\u0080-\u{10ffff}]/u.test(secret)) alphabet += 33;
    if (/[\u0080-\u{10ffff}]/u.test(secret)) alphabet += 128;
  }
  // A repetitive string ("aaaa…", "abab…") draws from fewer symbols than its classes say: take the
  // smaller of the class estimate and the string's own symbol frequencies (Shannon), per character.
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let shannon = 0;
  for (const n of counts.values()) shannon -= (n / chars.length) * Math.log2(n / chars.length);
  // Fewer than 12 distinct characters is a pattern, not a random draw (random hex shows 14–16).
  if (counts.size < 12) return chars.length * Math.min(Math.log2(alphabet), Math.log2(counts.size));
  const perChar = Math.min(Math.log2(alphabet), Math.max(shannon, Math.log2(counts.size)) + 1.5);
  return chars.length * perChar;
}

/** The JWT secret: at least 32 bytes and about 256 bits of estimated entropy. The value is never shown. */
const strongSecret: Parser<string> = (raw) => {
  const s = text(raw);
  const bytes = Buffer.byteLength(s);
  const bits = Math.floor(estimatedEntropyBits(s));
  if (bytes < 32 || bits < 256)
    throw new Error(
      `must carry at least 32 bytes of entropy (e.g. the output of \`openssl rand -base64 48\`); ` +
        `the value given has ${bytes} bytes, about ${bits} bits estimated (the value is not shown)`,
    );
  return s;
};

const TRUE = ['1', 'true', 'on', 'yes'];
const FALSE = ['0', 'false', 'off', 'no'];
const flag: Parser<boolean> = (raw) => {
  if (typeof raw === 'boolean') return raw;
  const s = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  if (s !== undefined && TRUE.includes(s)) return true;
  if (s !== undefined && FALSE.includes(s)) return false;
  throw new Error(`must be true or false (${[...TRUE, ...FALSE].join('/')}), got ${shown(raw)}`);
};

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw))
      throw new Error(`must be one of ${values.join(', ')}, got ${shown(raw)}`);
    return raw as T;
  };
}

/** Every setting: its variable and how its value is read. A new key is one line here and one in Config. */
const SETTINGS: { [K in keyof Config]-?: Setting<NonNullable<Config[K]>> } = {
  databaseUrl: { env: 'FU_DATABASE_URL', conventions: ['DATABASE_URL'], parse: text },
  dataDir: { env: 'FU_DATA_DIR', parse: text },
  embeddedPort: { env: 'FU_PG_PORT', parse: port },
  poolSize: { env: 'FU_POOL_SIZE', parse: integer(1) },
  demoPassword: { env: 'FU_DEMO_PASSWORD', parse: text },
  dualWrite: { env: 'FU_DUAL_WRITE', parse: flag },
  readPath: { env: 'FU_READ_PATH', parse: oneOf(READ_PATHS) },
  maxConcurrentBatches: {
    env: 'FU_MAX_CONCURRENT_BATCHES',
    deprecated: ['MAX_CONCURRENT_BATCHES'],
    parse: integer(1),
  },
  factorBatchSize: { env: 'FU_FACTOR_BATCH_SIZE', parse: integer(1) },
  companiesPath: { env: 'FU_COMPANIES_PATH', parse: text },
  marketDataPath: { env: 'FU_MARKET_DATA_PATH', parse: text },
  marketDataProvider: { env: 'FU_MARKET_DATA_PROVIDER', parse: oneOf(['file', 'yahoo', 'tiingo']) },
  marketDataHistoryDays: { env: 'FU_MARKET_DATA_HISTORY_DAYS', parse: integer(1) },
  marketDataRateLimit: { env: 'FU_MARKET_DATA_RATE_LIMIT', parse: positive },
  marketDataConcurrency: { env: 'FU_MARKET_DATA_CONCURRENCY', parse: integer(1) },
  marketDataTimeoutMs: { env: 'FU_MARKET_DATA_TIMEOUT_MS', parse: integer(1) },
  marketDataRetries: { env: 'FU_MARKET_DATA_RETRIES', parse: integer(0, 20) },
  tiingoApiKey: { env: 'FU_TIINGO_API_KEY', parse: text },
  apiCacheMaxEntries: { env: 'FU_API_CACHE_ENTRIES', parse: integer(1) },
  apiCacheMaxBytes: { env: 'FU_API_CACHE_BYTES', parse: integer(1) },
  ownerDatabaseUrl: { env: 'FU_OWNER_DATABASE_URL', parse: text },
  host: { env: 'FU_HOST', parse: text },
  statementTimeoutMs: { env: 'FU_STATEMENT_TIMEOUT_MS', parse: integer(1) },
  commandStatementTimeoutMs: { env: 'FU_COMMAND_STATEMENT_TIMEOUT_MS', parse: integer(1) },
  dbConnectTimeoutMs: { env: 'FU_DB_CONNECT_TIMEOUT_MS', parse: integer(1) },
  shutdownTimeoutMs: { env: 'FU_SHUTDOWN_TIMEOUT_MS', parse: integer(1) },
  corsOrigins: { env: 'FU_CORS_ORIGINS', parse: list },
  logLevel: {
    env: 'FU_LOG_LEVEL',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  loginLimitPerUser: { env: 'FU_LOGIN_LIMIT_PER_USER', parse: integer(1) },
  loginLimitPerAddress: { env: 'FU_LOGIN_LIMIT_PER_ADDRESS', parse: integer(1) },
  loginWindowSeconds: { env: 'FU_LOGIN_WINDOW_SECONDS', parse: integer(1) },
  bodyLimitBytes: { env: 'FU_BODY_LIMIT_BYTES', parse: integer(1024) },
  httpHeadersTimeoutMs: { env: 'FU_HTTP_HEADERS_TIMEOUT_MS', parse: integer(100, 600_000) },
  httpRequestTimeoutMs: { env: 'FU_HTTP_REQUEST_TIMEOUT_MS', parse: integer(100, 3_600_000) },
  httpKeepAliveTimeoutMs: { env: 'FU_HTTP_KEEPALIVE_TIMEOUT_MS', parse: integer(100, 600_000) },
  httpIdleTimeoutMs: { env: 'FU_HTTP_IDLE_TIMEOUT_MS', parse: integer(100, 3_600_000) },
  httpMaxConnections: { env: 'FU_HTTP_MAX_CONNECTIONS', parse: integer(1, 1_000_000) },
  trustProxy: { env: 'FU_TRUST_PROXY', parse: integer(0, 10) },
  jwtSecret: { env: 'FU_JWT_SECRET', parse: strongSecret },
  tokenTtlSeconds: { env: 'FU_TOKEN_TTL_SECONDS', parse: integer(1) },
  authCacheMs: { env: 'FU_AUTH_CACHE_MS', parse: integer(0, 60_000) },
  port: { env: 'FU_PORT', conventions: ['PORT'], parse: port },
  apiCacheMs: { env: 'FU_API_CACHE_MS', parse: integer(0) },
  servedDates: { env: 'FU_SERVED_DATES', parse: integer(0, 30) },
  symbolShardSize: { env: 'FU_SYMBOL_SHARD_SIZE', parse: integer(1) },
  portfolioShardSize: { env: 'FU_PORTFOLIO_SHARD_SIZE', parse: integer(1) },
  blockDays: { env: 'FU_BLOCK_DAYS', parse: integer(1, 366) },
  schedule: { env: 'FU_SCHEDULE', parse: cron },
  scheduleTimeZone: { env: 'FU_SCHEDULE_TZ', parse: timeZone },
  workerConcurrency: { env: 'FU_WORKER_CONCURRENCY', parse: integer(1, 64) },
  jobExpireSeconds: { env: 'FU_JOB_EXPIRE_SECONDS', parse: integer(2, 3600) },
  riskHalfLife: { env: 'FU_RISK_HALF_LIFE', parse: positive },
  benchmark: { env: 'FU_BENCHMARK', parse: (raw) => text(raw).toUpperCase() },
  scenariosPath: { env: 'FU_SCENARIOS_PATH', parse: text },
};

/** Configuration that cannot be used; `problems` has one line per bad value or unknown key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Configuration:${problems.length === 1 ? ` ${problems[0]}` : `\n  ${problems.join('\n  ')}`}`);
  }
}

export interface LoadOptions {
  /** Where warnings go (a deprecated variable); default: stderr, once per message per process. */
  warn?: (message: string) => void;
}

const warned = new Set<string>();
const warnOnce = (message: string) => {
  if (warned.has(message)) return;
  warned.add(message);
  console.error(`Warning: ${message}`);
};

function readConfigFile(file: string, named: boolean, problems: string[]): Record<string, unknown> {
  if (!existsSync(file)) {
    if (named) problems.push(`FU_CONFIG names ${file}, which does not exist`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    problems.push(`${file} is not readable JSON: ${(e as Error).message}`);
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(
      `${file} must hold a JSON object of settings, got ${Array.isArray(parsed) ? 'an array' : shown(parsed)}`,
    );
    return {};
  }
  return parsed as Record<string, unknown>;
}

/**
 * Loads and checks the configuration; throws a ConfigError listing every problem at once.
 *
 * Example: `FU_POOL_SIZE=ten` → "Configuration: FU_POOL_SIZE (environment variable) must be a
 * positive integer, got "ten"".
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  options: LoadOptions = {},
): Config {
  const warn = options.warn ?? warnOnce;
  const problems: string[] = [];
  const named = env.FU_CONFIG !== undefined && env.FU_CONFIG !== '';
  const file = path.resolve(cwd, named ? env.FU_CONFIG! : 'factor-universe.config.json');
  const fromFile = readConfigFile(file, named, problems);

  for (const key of Object.keys(fromFile)) {
    if (!(key in SETTINGS))
      problems.push(`unknown key "${key}" in ${file} (known keys: ${Object.keys(DEFAULTS).join(', ')})`);
  }

  const config: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, setting] of Object.entries(SETTINGS) as [keyof Config, Setting<unknown>][]) {
    const fromEnv = environmentValue(env, setting, warn);
    const [raw, where] = fromEnv
      ? [fromEnv.value, `${fromEnv.name} (environment variable)`]
      : [fromFile[key], `"${key}" in ${file}`];
    if (raw === undefined || raw === null) continue;
    try {
      config[key] = setting.parse(raw);
    } catch (e) {
      problems.push(`${where} ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const result = config as unknown as Config;
  return { ...result, dataDir: path.resolve(cwd, result.dataDir) };
}

/** The first set (non-empty) of the setting's variables, with its name; warns for an old name. */
function environmentValue(
  env: NodeJS.ProcessEnv,
  setting: Setting<unknown>,
  warn: (message: string) => void,
): { name: string; value: string } | undefined {
  for (const name of [setting.env, ...(setting.conventions ?? []), ...(setting.deprecated ?? [])]) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (setting.deprecated?.includes(name)) warn(`${name} is deprecated; set ${setting.env} instead`);
    return { name, value };
  }
  return undefined;
}

/** A read path named on the command line or elsewhere. */
export function parseReadPath(s: string): ReadPath {
  try {
    return oneOf(READ_PATHS)(s);
  } catch (e) {
    throw new Error(`read path ${(e as Error).message}`);
  }
}
