/**
 * The real parts of a fault test: a PostgreSQL server of the test's own (so the test may restart,
 * stop and continue it), seeded with a small demo market, and the API as a separate process started
 * with `bin/factor-universe.js serve`, connecting as the least-privilege role.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runPipeline } from '../../src/pipeline/submit.ts';
import { loadConfig } from '../../src/config.ts';
import { connect, ensureDatabase } from '../../src/db/connection.ts';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/db/embedded.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { appRoleUrl } from '../../src/db/roles.ts';
import { freePort, scratchClusterDir } from '../../src/db/throwaway.ts';
import { loadDemoMarket } from '../../src/demo/load.ts';
import { loadModel } from '../../src/factors/model.ts';
import { tradingDays } from '../../src/market/closes.ts';
import { createUser } from '../../src/users/users.ts';

export const ADMIN = { username: 'ops-admin', password: 'ops-admin-password' };
export const DEMO = { username: 'demo', password: 'demo-password' };

export interface Database {
  dataDir: string;
  port: number;
  ownerUrl: string;
  appUrl: string;
  /** The last two trading days of the seeded market (the newest has betas and exposures). */
  dates: [string, string];
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT to the postmaster and every backend: the server stops answering, then resumes. */
  freeze(): void;
  thaw(): void;
  done(): Promise<void>;
}

function postgresPids(clusterDir: string): number[] {
  const postmaster = Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // field 4 of /proc/N/stat is the parent pid (after the parenthesised command name)
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/** A seeded database on a server of this test's own. */
export async function startDatabase(options: { stocks?: number } = {}): Promise<Database> {
  const dataDir = scratchClusterDir('fu-faults-');
  const port = await freePort();
  let server: EmbeddedServer = await startEmbeddedServer(dataDir, port);
  const ownerUrl = await ensureDatabase(server.adminUrl, 'fu_faults');
  const owner = connect(ownerUrl, 4);
  let dates: [string, string];
  try {
    await migrateToLatest(owner.db);
    await loadDemoMarket(owner.db, owner.pool, path.join(dataDir, 'demo'), DEMO.password, {
      stocks: options.stocks ?? 40, // the fewest the demo's portfolios need
    });
    await createUser(owner.db, { ...ADMIN, isAdmin: true });
    const model = await loadModel(owner.db);
    const days = await tradingDays(owner.pool, model.settings.calendarSymbol, '0001-01-01', '9999-12-31');
    dates = [days.at(-2)!, days.at(-1)!];
    const config = { ...loadConfig({}), dualWrite: false };
    const done = await runPipeline(owner, config, { from: dates[0], to: dates[1], kind: 'backfill' });
    if (done.status !== 'completed') throw new Error(`set-up run ${done.status}: ${done.error}`);
  } catch (e) {
    await owner.db.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  await owner.db.destroy();
  const appUrl = await appRoleUrl(ownerUrl, dataDir);
  const clusterDir = path.join(dataDir, 'postgres');
  let frozen: number[] = [];
  return {
    dataDir,
    port,
    ownerUrl,
    appUrl,
    dates,
    stop: () => server.stop(),
    start: async () => {
      server = await startEmbeddedServer(dataDir, port);
    },
    freeze: () => {
      frozen = postgresPids(clusterDir);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw: () => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      frozen = [];
    },
    done: async () => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      await server.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Api {
  base: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** `factor-universe serve` as a process of its own; resolves once it listens. */
export async function startApi(env: Record<string, string>, timeoutMs = 60_000): Promise<Api> {
  const port = await freePort();
  const dataDir = scratchClusterDir('fu-faults-api-');
  const child = spawn(process.execPath, [path.resolve('bin/factor-universe.js'), 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      FU_DATA_DIR: dataDir,
      FU_JWT_SECRET: 'fault-tests-secret-0123456789abcdef0123456789',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
  const started = Date.now();
  while (!out.includes('Factor Universe API on')) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}:\n${out}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`the API did not start within ${timeoutMs} ms:\n${out}`);
    }
    await sleep(50);
  }
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

/** One HTTP request; a transport failure (reset, refused) is thrown, so a test sees it. */
export async function call(
  base: string,
  route: string,
  options: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${base}${route}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: kept as text */
  }
  return { status: res.status, body, headers: res.headers, ms: performance.now() - started };
}

export async function login(base: string, user: { username: string; password: string }): Promise<string> {
  const r = await call(base, '/api/v1/auth/login', { body: user });
  if (r.status !== 200) throw new Error(`login ${user.username}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
}
