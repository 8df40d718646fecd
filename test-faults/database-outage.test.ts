/**
 * The database goes away (restart, SIGSTOP/SIGCONT) while the API serves, while a batch started via
 * the API runs, and while a command runs; the API is stopped with SIGTERM while requests are in flight.
 * Nothing may crash; every request gets an answer (200, or 503 with Retry-After while the database is
 * away); everything comes back by itself.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort, scratchClusterDir } from '../src/db/throwaway.ts';
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

let db: Database;
let api: Api;
let demo: string;
let admin: string;

const API_ENV = () => ({
  DATABASE_URL: db.appUrl,
  FU_STATEMENT_TIMEOUT_MS: '1500',
  FU_DB_CONNECT_TIMEOUT_MS: '1000',
  FU_POOL_SIZE: '4',
  FU_DUAL_WRITE: 'false',
  FU_LOG_LEVEL: 'error',
});

before(async () => {
  db = await startDatabase();
  api = await startApi(API_ENV());
  demo = await login(api.base, DEMO);
  admin = await login(api.base, ADMIN);
});
after(async () => {
  await api?.stop();
  await db?.done();
});

/** Requests sent every `everyMs` until stopped; transport errors (reset, refused) are kept apart. */
function keepCalling(routes: string[], everyMs = 40) {
  const answers: (Answer & { route: string })[] = [];
  const failures: string[] = [];
  let running = true;
  let n = 0;
  const loop = (async () => {
    const inflight: Promise<void>[] = [];
    while (running) {
      const route = routes[n++ % routes.length]!;
      inflight.push(
        call(api.base, route, { token: demo }).then(
          (a) => void answers.push({ ...a, route }),
          (e: Error) => void failures.push(`${route}: ${e.message}`),
        ),
      );
      await sleep(everyMs);
    }
    await Promise.all(inflight);
  })();
  return {
    answers,
    failures,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** A dashboard query no cache holds (each call asks a new one). */
let miss = 0;
const fresh = () => `/api/v1/data/symbols?limit=${1 + (miss++ % 400)}&offset=${miss}`;

async function snapshot() {
  const portfolios = (await call(api.base, '/api/v1/portfolios', { token: demo })).body.portfolios;
  const exposures = await call(api.base, `/api/v1/portfolios/${portfolios[0].id}/factor-exposures`, {
    token: demo,
  });
  return { portfolios, exposures: exposures.body };
}

function assertAnswered503(a: Answer, what: string) {
  assert.equal(a.status, 503, `${what}: ${JSON.stringify(a.body)}`);
  assert.equal(a.body.error, 'database_unavailable', what);
  assert.ok(Number(a.headers.get('retry-after')) > 0, `${what}: Retry-After`);
  assert.doesNotMatch(JSON.stringify(a.body), /ECONNREFUSED|terminat|timeout exceeded|57P01/i, what);
}

describe('the API while the database goes away', () => {
  it('a restart while serving: 200 or 503 with Retry-After meanwhile, no reset, recovery by itself', async () => {
    // Nothing lost: every request sent gets an HTTP answer; the process is the same one; the data
    // read afterwards equals the data read before.
    const before = await snapshot();
    const load = keepCalling(['/api/v1/portfolios', fresh(), '/ready', '/health']);
    await sleep(300);
    await db.stop();
    await sleep(300);
    const whatIf = await call(api.base, '/api/v1/analytics/what-if', {
      token: demo,
      body: { equity: 1e6, positions: [{ symbol: 'SPY', position_type: 'LONG', quantity: 10 }] },
    });
    assertAnswered503(whatIf, 'what-if while the database is down (was a 400 with ECONNREFUSED)');
    assertAnswered503(await call(api.base, fresh(), { token: demo }), 'dashboard while down');
    const ready = await call(api.base, '/ready');
    assert.equal(ready.status, 503);
    await sleep(1000);
    await db.start();
    await eventually('portfolios answer 200 again', async () => {
      return (await call(api.base, '/api/v1/portfolios', { token: demo })).status === 200;
    });
    await load.stop();
    assert.deepEqual(load.failures, [], 'every request got an answer');
    const statuses = new Set(load.answers.map((a) => a.status));
    assert.ok(
      [...statuses].every((s) => s === 200 || s === 503),
      `statuses ${[...statuses]}`,
    );
    assert.ok(
      load.answers.some((a) => a.status === 503),
      'some requests met the outage',
    );
    for (const a of load.answers.filter((x) => x.status === 503 && x.route !== '/ready'))
      assert.ok(Number(a.headers.get('retry-after')) > 0, 'Retry-After on every 503');
    assert.equal(api.child.exitCode, null, 'the API process is alive');
    assert.deepEqual(await snapshot(), before, 'the same data after the restart');
    assert.equal((await call(api.base, '/ready')).status, 200);
  });

  it('SIGSTOP: /ready answers 503, requests answer 503 with Retry-After; SIGCONT recovers', async () => {
    // Nothing lost: every request answered; after SIGCONT the same answers as before.
    const before = await snapshot();
    db.freeze();
    try {
      const ready = await call(api.base, '/ready');
      console.log(`/ready with the database stopped: ${ready.status} in ${ready.ms.toFixed(0)} ms`);
      // answered (its own timeout fired: the frozen database never replies), not a hanging request
      assert.equal(ready.status, 503);
      const answers = await Promise.all(
        [1, 2, 3, 4, 5, 6].map(() => call(api.base, fresh(), { token: demo })),
      );
      for (const a of answers) assertAnswered503(a, 'dashboard while the database is stopped');
      console.log(`503s after at most ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ms`);
      assert.equal((await call(api.base, '/health')).status, 200);
    } finally {
      db.thaw();
    }
    await eventually('ready again', async () => (await call(api.base, '/ready')).status === 200);
    await eventually(
      'answers again',
      async () => (await call(api.base, fresh(), { token: demo })).status === 200,
    );
    assert.deepEqual(await snapshot(), before);
    assert.equal(api.child.exitCode, null);
  });
});

describe('batch runs started via the API (executed by a worker process)', () => {
  let worker: ChildProcess;
  before(() => {
    // The API only enqueues; a worker, connected as the least-privilege role, runs the jobs.
    worker = spawn(process.execPath, [path.resolve('bin/factor-universe.js'), 'worker'], {
      env: { ...process.env, DATABASE_URL: db.appUrl, FU_DUAL_WRITE: 'false', FU_JOB_EXPIRE_SECONDS: '5' },
      stdio: 'ignore',
    });
  });
  after(() => {
    worker.kill('SIGKILL');
  });
  const runStatus = async (runId: string) => {
    const c = new pg.Client({ connectionString: db.ownerUrl });
    await c.connect();
    try {
      return (await c.query('SELECT status FROM batch_runs WHERE id = $1', [runId])).rows[0]
        ?.status as string;
    } finally {
      await c.end();
    }
  };
  const start = () =>
    call(api.base, '/api/v1/batch/runs', { token: admin, body: { date: db.dates[1], force: true } });
  const startWhenFree = async () => {
    let answer: Answer | undefined;
    await eventually('a new run is accepted', async () => {
      answer = await start().catch(() => undefined);
      return answer?.status === 202;
    });
    return answer!.body.id as string;
  };
  const completes = async (runId: string) =>
    eventually(
      `run ${runId} completes`,
      async () => (await runStatus(runId).catch(() => '')) === 'completed',
      90_000,
    );

  it('concurrent requests for one date: one 202, the others 409 naming the active run', async () => {
    // Nothing lost: the accepted run completes every stage.
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => start()));
    const accepted = answers.filter((a) => a.status === 202);
    assert.equal(accepted.length, 1, JSON.stringify(answers.map((a) => a.status)));
    const runId = accepted[0]!.body.id;
    for (const a of answers.filter((x) => x.status !== 202)) {
      assert.equal(a.status, 409);
      assert.equal(a.body.details.run_id, runId);
    }
    await completes(runId);
  });

  it('a restart and a stop/continue of the database during runs: the API and the worker live, the runs complete', async () => {
    // Nothing lost: every accepted run completes, none is left running, and the date has as many
    // betas as before the faults.
    const betas = async () => {
      const c = new pg.Client({ connectionString: db.ownerUrl });
      await c.connect();
      try {
        return Number(
          (
            await c.query('SELECT count(*) AS n FROM symbol_factor_exposures WHERE calculation_date = $1', [
              db.dates[1],
            ])
          ).rows[0].n,
        );
      } finally {
        await c.end();
      }
    };
    const betasBefore = await betas();
    assert.ok(betasBefore > 0);

    const first = await startWhenFree();
    await sleep(150);
    await db.stop();
    await sleep(500);
    await db.start();
    await completes(first);

    const second = await startWhenFree();
    await sleep(150);
    db.freeze();
    await sleep(2500);
    db.thaw();
    await completes(second);
    assert.equal(api.child.exitCode, null, 'the API process is alive');
    assert.equal(worker.exitCode, null, 'the worker process is alive');
    const c = new pg.Client({ connectionString: db.ownerUrl });
    await c.connect();
    const running = (
      await c.query("SELECT count(*)::int AS n FROM batch_runs WHERE status IN ('queued', 'running')")
    ).rows[0].n;
    await c.end();
    assert.equal(running, 0);
    assert.equal(await betas(), betasBefore);
  });
});

describe('a command while the database restarts', () => {
  it('`batch run` with the database going away: no crash; it completes once the database is back, or exits 1 with a message', async () => {
    // Nothing lost: the date's run completes (the command's own, or a rerun's).
    const url = new URL(db.ownerUrl);
    url.searchParams.set('application_name', 'fault-cli');
    const child = spawn(
      process.execPath,
      [path.resolve('bin/factor-universe.js'), 'batch', 'run', '--date', db.dates[1], '--force'],
      {
        env: {
          ...process.env,
          DATABASE_URL: url.toString(),
          FU_DB_CONNECT_TIMEOUT_MS: '1000',
          FU_DUAL_WRITE: 'false',
          FU_JOB_EXPIRE_SECONDS: '5',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const c = new pg.Client({ connectionString: db.ownerUrl });
    await c.connect();
    await eventually('the command connected', async () => {
      const { rows } = await c.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'fault-cli'",
      );
      return rows[0].n > 0 || child.exitCode !== null;
    });
    await c.end().catch(() => undefined);
    await db.stop();
    await sleep(2000);
    const gaveUp = child.exitCode !== null; // cut off while starting (connecting, migrating): a clean exit 1
    await db.start();
    const code = await exited;
    assert.doesNotMatch(out, /Unhandled|node:internal|uncaught/i, out);
    if (gaveUp) {
      assert.equal(code, 1, out);
      const rerun = spawn(
        process.execPath,
        [path.resolve('bin/factor-universe.js'), 'batch', 'run', '--date', db.dates[1], '--force'],
        { env: { ...process.env, DATABASE_URL: db.ownerUrl, FU_DUAL_WRITE: 'false' }, stdio: 'ignore' },
      );
      assert.equal(await new Promise((resolve) => rerun.on('exit', resolve)), 0);
    } else {
      // it waited for the database, and its run completed once it was back
      assert.equal(code, 0, out);
      assert.match(out, /run completed in/);
    }
  });
});

describe('SIGTERM', () => {
  it('requests in flight finish, then the process exits 0 and accepts nothing more', async () => {
    // Nothing lost: every request accepted before the signal gets its full answer.
    const own = api; // the last use of the shared API process
    const token = demo;
    db.freeze(); // the requests below wait on the database: they are surely in flight
    let answers: Promise<Answer[]>;
    try {
      answers = Promise.all([1, 2, 3, 4].map(() => call(own.base, fresh(), { token })));
      await sleep(300);
      own.child.kill('SIGTERM');
      await sleep(300);
    } finally {
      db.thaw();
    }
    const got = await answers;
    const signalled = performance.now();
    assert.deepEqual(
      got.map((a) => a.status),
      [200, 200, 200, 200],
      JSON.stringify(got.map((a) => a.body)),
    );
    assert.equal(await own.exited, 0, own.output());
    console.log(`exited ${(performance.now() - signalled).toFixed(0)} ms after the last answer`);
    console.log(own.output().match(/Stopped serving in \d+ ms/)?.[0]);
    await assert.rejects(call(own.base, '/health'));
  });

  it('`serve` on the embedded server: SIGTERM closes the pool and stops PostgreSQL cleanly', async () => {
    // Nothing lost: the cluster is shut down cleanly (no postmaster.pid left), exit code 0.
    const dataDir = scratchClusterDir('fu-faults-embedded-');
    const own = await startApi(
      { FU_DATA_DIR: dataDir, FU_PG_PORT: String(await freePort()), FU_LOG_LEVEL: 'error' },
      120_000,
    );
    assert.equal((await call(own.base, '/ready')).status, 200);
    assert.ok(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')));
    assert.equal(await own.stop(), 0, own.output());
    assert.equal(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')), false, 'postgres stopped');
    assert.match(own.output(), /Stopped serving/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
