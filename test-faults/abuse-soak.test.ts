/**
 * An abuse soak: a mixed load (dashboard pages with sorts and filters, sign-ins, what-ifs) against a
 * real API process while a batch run started via the API executes on a worker process; during it the
 * worker is killed with SIGKILL once (a new worker takes the run over) and PostgreSQL is restarted
 * once. No process exits but the one killed on purpose; no 5xx but 503s while the database is down;
 * and the run's stored rows equal those of the same run done without faults in a database of its own.
 * Every loop is bounded in count and in time; loopback only.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { fingerprint } from './helpers/fingerprint.ts';
import {
  ADMIN,
  DEMO,
  call,
  eventually,
  login,
  startApi,
  startDatabase,
  type Answer,
  type Api,
  type Database,
} from './helpers/stack.ts';

const LOAD_MS = 60_000; // the load stops by then at the latest
const MAX_REQUESTS = 3000;

interface Stack {
  db: Database;
  api: Api;
  workers: ChildProcess[];
  demo: string;
  admin: string;
}
const stacks: Stack[] = [];

function spawnWorker(s: Stack): ChildProcess {
  const w = spawn(process.execPath, [path.resolve('bin/factor-universe.js'), 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: s.db.appUrl,
      FU_DUAL_WRITE: 'false',
      FU_JOB_EXPIRE_SECONDS: '5', // the killed worker's job is retried within seconds
      FU_DB_CONNECT_TIMEOUT_MS: '1000',
    },
    stdio: 'ignore',
  });
  s.workers.push(w);
  return w;
}

async function startStack(): Promise<Stack> {
  const db = await startDatabase();
  const api = await startApi({
    DATABASE_URL: db.appUrl,
    FU_STATEMENT_TIMEOUT_MS: '1500',
    FU_DB_CONNECT_TIMEOUT_MS: '1000',
    FU_POOL_SIZE: '4',
    FU_DUAL_WRITE: 'false',
    FU_LOG_LEVEL: 'error',
    FU_LOGIN_LIMIT_PER_ADDRESS: '100000',
    FU_LOGIN_LIMIT_PER_USER: '100000',
  });
  const s: Stack = {
    db,
    api,
    workers: [],
    demo: await login(api.base, DEMO),
    admin: await login(api.base, ADMIN),
  };
  stacks.push(s);
  return s;
}

async function ownerQuery<T>(db: Database, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.ownerUrl, connectionTimeoutMillis: 2000 });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

async function storeFingerprint(db: Database) {
  const c = new pg.Client({ connectionString: db.ownerUrl });
  await c.connect();
  try {
    return await fingerprint(c);
  } finally {
    await c.end();
  }
}

const startRun = async (s: Stack) => {
  const a = await call(s.api.base, '/api/v1/batch/runs', {
    token: s.admin,
    body: { date: s.db.dates[1], force: true },
  });
  assert.equal(a.status, 202, JSON.stringify(a.body));
  return a.body.id as string;
};
const runStatus = async (s: Stack, runId: string) =>
  (await ownerQuery<{ status: string }>(s.db, 'SELECT status FROM batch_runs WHERE id = $1', [runId]))[0]
    ?.status;
const completes = (s: Stack, runId: string) =>
  eventually(
    `run ${runId} completes`,
    async () => (await runStatus(s, runId).catch(() => '')) === 'completed',
    120_000,
  );

const ROUTES = [
  '/api/v1/data/symbols?sort_by=market_cap&sort_order=desc&limit=25',
  '/api/v1/data/symbols?sort_by=market_cap&sort_order=asc&limit=10&offset=5',
  '/api/v1/data/symbols?sector=Information%20Technology&limit=50',
  '/api/v1/data/symbols?min_market_cap=1000000000&sort_order=asc',
  '/api/v1/data/symbols?q=A&limit=20',
  '/api/v1/data/symbols?max_pe_ratio=30&fields=symbol,sector',
];
const WHAT_IF = {
  equity: 1e6,
  positions: [{ symbol: 'SPY', position_type: 'LONG', quantity: 10 }],
};

/** The mixed load, one request at a time per lane, until stopped (bounded in count and in time). */
function mixedLoad(s: Stack, lanes = 4) {
  const answers: (Answer & { what: string; at: number })[] = [];
  const failures: string[] = [];
  let running = true;
  let n = 0;
  const started = Date.now();
  const lane = async () => {
    while (running && n < MAX_REQUESTS && Date.now() - started < LOAD_MS) {
      const i = n++;
      const kind = i % 8;
      const what = kind < 5 ? ROUTES[i % ROUTES.length]! : kind === 5 ? 'login' : 'what-if';
      const request =
        what === 'login'
          ? call(s.api.base, '/api/v1/auth/login', { body: DEMO })
          : what === 'what-if'
            ? call(s.api.base, '/api/v1/analytics/what-if', { token: s.demo, body: WHAT_IF })
            : call(s.api.base, what, { token: s.demo });
      await request.then(
        (a) => void answers.push({ ...a, what, at: Date.now() }),
        (e: Error) => void failures.push(`${what}: ${e.message}`),
      );
      await sleep(20);
    }
  };
  const all = Promise.all(Array.from({ length: lanes }, lane));
  return {
    answers,
    failures,
    stop: async () => {
      running = false;
      await all;
    },
  };
}

before(async () => {
  await startStack(); // quiet
  await startStack(); // soak
});
after(async () => {
  for (const s of stacks) {
    for (const w of s.workers) w.kill('SIGKILL');
    await s.api.stop();
    await s.db.done();
  }
});

describe('the abuse soak', () => {
  it('a worker killed and PostgreSQL restarted under mixed load: only 503s while down, nothing exits, the same rows as a quiet run', async () => {
    const [quiet, soak] = stacks as [Stack, Stack];

    // the quiet run: the same run, no load, no faults
    spawnWorker(quiet);
    const quietRun = await startRun(quiet);
    await completes(quiet, quietRun);
    const expected = await storeFingerprint(quiet.db);

    const first = spawnWorker(soak);
    const load = mixedLoad(soak);
    let down: [number, number] = [0, 0];
    try {
      await sleep(1000);
      const runId = await startRun(soak);
      // SIGKILL the worker once it holds one of the run's jobs
      await eventually(
        'the worker took a job',
        async () =>
          (
            await ownerQuery<{ n: number }>(
              soak.db,
              "SELECT count(*)::int AS n FROM batch_jobs WHERE run_id = $1 AND state = 'active'",
              [runId],
            )
          )[0]!.n > 0,
        30_000,
      );
      first.kill('SIGKILL');
      const killed = await new Promise<NodeJS.Signals | null>((r) => first.on('exit', (_c, sig) => r(sig)));
      assert.equal(killed, 'SIGKILL');
      await sleep(500);
      // PostgreSQL away for a second, with no worker on the run, then a new worker takes it over
      const stopped = Date.now();
      await soak.db.stop();
      await sleep(1500);
      await soak.db.start();
      await eventually(
        'the API answers again',
        async () => (await call(soak.api.base, '/ready')).status === 200,
      );
      down = [stopped, Date.now()];
      spawnWorker(soak);
      await completes(soak, runId);
      await sleep(1000); // some load after the recovery too
    } finally {
      await load.stop();
    }

    assert.deepEqual(load.failures, [], 'every request got an HTTP answer');
    assert.ok(load.answers.length > 100, `the load ran (${load.answers.length} answers)`);
    for (const a of load.answers) {
      if (a.status < 500) continue;
      const duringOutage = a.at >= down[0] && a.at <= down[1] + 5000;
      assert.ok(
        a.status === 503 && duringOutage,
        `${a.what}: ${a.status} ${JSON.stringify(a.body)} ${duringOutage ? 'during' : 'outside'} the outage`,
      );
    }
    // every kind of request was served (each route, sign-ins, what-ifs), not only refused
    const summary: Record<string, Record<number, number>> = {};
    for (const a of load.answers) (summary[a.what] ??= {})[a.status] = (summary[a.what]?.[a.status] ?? 0) + 1;
    for (const what of [...ROUTES, 'login', 'what-if'])
      assert.ok((summary[what]?.[200] ?? 0) > 0, `${what} was served: ${JSON.stringify(summary)}`);
    assert.equal(soak.api.child.exitCode, null, 'the API process is alive');
    assert.equal(soak.workers[1]!.exitCode, null, 'the new worker is alive');
    assert.equal(quiet.api.child.exitCode, null);
    const running = await ownerQuery<{ n: number }>(
      soak.db,
      "SELECT count(*)::int AS n FROM batch_runs WHERE status IN ('queued', 'running')",
    );
    assert.equal(running[0]!.n, 0, 'no run left running');
    assert.deepEqual(await storeFingerprint(soak.db), expected, 'the same stored rows as the quiet run');
  });
});
