import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDemoMarket } from '../src/demo/load.ts';
import { freePort, scratchClusterDir } from '../src/db/throwaway.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

const cli = path.resolve('bin/factor-universe.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the command line; collects its output; `exit` resolves with the exit code. */
function start(args: string[], env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (b: Buffer) => (out.stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out.stderr += b.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, exit };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('Ctrl-C and SIGTERM in commands (real processes)', () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
    await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  });
  after(async () => t.close());

  it('Ctrl-C in a backfill says it is stopping, finishes the job in hand and stops: exit 130; run again, it completes', async () => {
    const env = { DATABASE_URL: t.url, FU_DATABASE_URL: '', FU_BLOCK_DAYS: '4', FU_DUAL_WRITE: 'false' };
    const args = ['batch', 'backfill', '--from', '2026-09-14', '--to', '2026-10-30'];
    const run = start(args, env);
    const jobs = async () =>
      (
        await t.pool.query<{ state: string; n: number }>(
          'SELECT state, count(*)::int AS n FROM batch_jobs GROUP BY state',
        )
      ).rows;
    const completed = async () => (await jobs()).find((r) => r.state === 'completed')?.n ?? 0;
    await until('the first jobs of the backfill', async () => (await completed()) >= 3);
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 130, run.out.stderr);
    assert.match(
      run.out.stderr,
      /Stopping factor-universe batch backfill \(SIGINT\): finishing the current step/,
    );
    assert.match(run.out.stderr, /Stopped before the end; run the command again to complete it\.\n$/);
    // the job in hand was finished, not left half-done; the rest waits in the queue
    const states = await jobs();
    assert.deepEqual(
      states.map((r) => r.state).filter((s) => s !== 'completed' && s !== 'queued'),
      [],
      JSON.stringify(states),
    );
    assert.ok(
      states.some((r) => r.state === 'queued'),
      'stopped before the end',
    );
    const again = start(args, env);
    assert.equal(await again.exit, 0, again.out.stderr);
    assert.match(again.out.stderr, /is already active for these dates: following it/);
    assert.match(again.out.stderr, /run completed in/);
    const days = await t.pool.query(
      `SELECT (SELECT count(DISTINCT snapshot_date) FROM portfolio_snapshots WHERE snapshot_date BETWEEN '2026-09-14' AND '2026-10-30')::int AS n,
              (SELECT count(*) FROM market_data_cache WHERE symbol = 'SPY' AND date BETWEEN '2026-09-14' AND '2026-10-30')::int AS trading_days`,
    );
    assert.equal(days.rows[0].n, days.rows[0].trading_days);
  });

  it('SIGTERM to serve with an embedded server it started: closes the API, stops PostgreSQL, exit 0', async () => {
    const dataDir = scratchClusterDir('fu-signal-');
    try {
      const port = await freePort();
      const run = start(['serve', '--port', String(port)], {
        FU_DATA_DIR: dataDir,
        FU_PG_PORT: String(await freePort()),
        FU_DATABASE_URL: '',
        DATABASE_URL: '',
      });
      await until('the API to listen', () => run.out.stdout.includes('Factor Universe API on'));
      const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
      const postgres = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      assert.ok(alive(postgres));
      run.child.kill('SIGTERM');
      assert.equal(await run.exit, 0, run.out.stderr);
      assert.match(run.out.stderr, /Stopping factor-universe serve \(SIGTERM\)/);
      assert.match(run.out.stderr, /Stopped\.\n$/);
      assert.equal(alive(postgres), false, 'PostgreSQL stopped');
      assert.equal(existsSync(pidFile), false, 'its lock file removed');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
