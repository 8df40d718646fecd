import { Kysely, PostgresDialect } from 'kysely';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.ts';
import { notAnswering, startEmbeddedServer, type EmbeddedServer } from './embedded.ts';
import { migrateIfPending } from './migrate.ts';
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

export function connect(url: string, poolSize: number): Pick<Db, 'db' | 'pool'> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its connection must not crash the process; the next checkout reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}

/**
 * Opens the configured database (starting the embedded server if no URL is set) and migrates it.
 * Start-up matters for every command, so the usual case costs one connection and one query: the
 * embedded database is created (and a found server probed) only when that first query fails.
 */
export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Db> {
  let server: EmbeddedServer | undefined;
  let url = config.databaseUrl;
  let location: string;
  if (url) {
    location = maskPassword(url);
  } else {
    server = await startEmbeddedServer(config.dataDir, config.embeddedPort, options.log, { probe: false });
    url = databaseUrl(server.adminUrl, EMBEDDED_DATABASE);
    location = `embedded PostgreSQL on 127.0.0.1:${server.port}, cluster in ${config.dataDir}/postgres`;
  }
  const { db, pool } = connect(url, config.poolSize);
  const close = async () => {
    await db.destroy();
    await server?.stop();
  };
  const prepare = async () => {
    if (options.migrate === false) return void (await pool.query('SELECT 1'));
    const applied = await migrateIfPending(db);
    if (applied.length > 0) options.log?.(`Applied migrations: ${applied.join(', ')}`);
  };
  try {
    await prepare().catch(async (e: { code?: string }) => {
      if (!server) throw e;
      if (e.code === '3D000') {
        // a new cluster: its database does not exist yet
        await ensureDatabase(server.adminUrl, EMBEDDED_DATABASE);
        return prepare();
      }
      if (!server.owned && e.code === 'ECONNREFUSED')
        throw notAnswering(path.join(config.dataDir, 'postgres'), server.port);
      throw e;
    });
  } catch (e) {
    await close();
    throw e;
  }
  return { db, pool, location, close };
}
