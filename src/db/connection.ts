import { Kysely, PostgresDialect } from 'kysely';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.ts';
import { notAnswering, startEmbeddedServer, type EmbeddedServer } from './embedded.ts';
import { migrateIfPending } from './migrate.ts';
import { appRoleUrl } from './roles.ts';
import type { Database } from './schema.ts';

// DATE stays an ISO string (a JS Date would move it by the local time zone); int8 counts fit a double.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export const EMBEDDED_DATABASE = 'factor_universe';

export interface Db {
  db: Kysely<Database>;
  pool: pg.Pool;
  /** Where the data lives, for people (password masked). */
  location: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  migrate?: boolean;
  log?: (line: string) => void;
  /** The API's pool: its statement timeout is `config.statementTimeoutMs` instead of the commands' one. */
  api?: boolean;
}

/** How long the pool's statements, connections and checkouts may take (ms). */
export interface PoolTimeouts {
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

function maskPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently by another process
      });
    }
  } finally {
    await admin.end();
  }
  return databaseUrl(adminUrl, name);
}

/** The URL of database `name` on the server of `serverUrl`. */
function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function connect(url: string, poolSize: number, timeouts?: PoolTimeouts): Pick<Db, 'db' | 'pool'> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    ...(timeouts && {
      // Server side: a statement running longer is cancelled (57014). Client side, a second later:
      // a server that stopped answering (SIGSTOP, lost network) cannot hold a request forever.
      statement_timeout: timeouts.statementTimeoutMs,
      query_timeout: timeouts.statementTimeoutMs + 1000,
      // Both opening a connection and waiting for a free one in the pool.
      connectionTimeoutMillis: timeouts.connectTimeoutMs,
      keepAlive: true,
    }),
  });
  // A client losing its connection (database restart) must not crash the process: pg-pool removes
  // it, and the next checkout opens a new one.
  pool.on('error', () => undefined);
  // pg-pool listens for errors only on idle clients: a checked-out client that sits between queries
  // (the batch's advisory-lock connection) would throw its connection error as an uncaught 'error'
  // event and end the process. Its next query fails instead, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}

/**
 * Opens the configured database (starting the embedded server if no URL is set) and migrates it.
 * Start-up matters for every command: migrations are checked with one cheap query as the owner, and
 * the embedded database is created (and a found server probed) only when that query fails. The
 * application then connects as the least-privilege role.
 */
export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Db> {
  let server: EmbeddedServer | undefined;
  let url = config.databaseUrl;
  let ownerUrl = config.ownerDatabaseUrl ?? url;
  let location: string;
  if (url) {
    location = maskPassword(url);
  } else {
    server = await startEmbeddedServer(config.dataDir, config.embeddedPort, options.log, { probe: false });
    ownerUrl = databaseUrl(server.adminUrl, EMBEDDED_DATABASE);
    location = `embedded PostgreSQL on 127.0.0.1:${server.port}, cluster in ${config.dataDir}/postgres`;
  }
  const timeouts: PoolTimeouts = {
    statementTimeoutMs: options.api ? config.statementTimeoutMs : config.commandStatementTimeoutMs,
    connectTimeoutMs: config.dbConnectTimeoutMs,
  };
  let opened: Pick<Db, 'db' | 'pool'> | undefined;
  const close = async () => {
    await opened?.db.destroy();
    await server?.stop();
  };
  const migrate = async () => {
    const owner = connect(ownerUrl!, 1, {
      ...timeouts,
      statementTimeoutMs: config.commandStatementTimeoutMs,
    });
    try {
      const applied = await migrateIfPending(owner.db);
      if (applied.length > 0) options.log?.(`Applied migrations: ${applied.join(', ')}`);
    } finally {
      await owner.db.destroy();
    }
  };
  try {
    if (options.migrate !== false)
      await migrate().catch(async (e: { code?: string }) => {
        if (!server) throw e;
        if (e.code === '3D000') {
          // a new cluster: its database does not exist yet
          await ensureDatabase(server.adminUrl, EMBEDDED_DATABASE);
          return migrate();
        }
        if (!server.owned && e.code === 'ECONNREFUSED')
          throw notAnswering(path.join(config.dataDir, 'postgres'), server.port);
        throw e;
      });
    if (!url) url = await appRoleUrl(ownerUrl!, config.dataDir);
    opened = connect(url, config.poolSize, timeouts);
  } catch (e) {
    await close();
    throw e;
  }
  const { db, pool } = opened;
  return { db, pool, location, close };
}
