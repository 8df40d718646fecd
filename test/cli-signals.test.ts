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

  it('Ctrl-C in a backfill says it is stopping, finishes the date under way and stops there: exit 130', async () => {
    const run = start(['batch', 'backfill', '--from', '2026-08-03', '--to', '2026-10-30'], {
      DATABASE_URL: t.url,
      FU_DATABASE_URL: '',
    });
    const completedDates = async () =>
      (
        await t.pool.query(
          "SELECT count(DISTINCT run_date)::int AS n FROM batch_runs WHERE phase = 'legacy_position_exposures' AND status = 'completed'",
        )
      ).rows[0].n as number;
    await until('the first date of the backfill', async () => (await completedDates()) >= 1);
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 130, run.out.stderr);
    assert.match(
      run.out.stderr,
      /Stopping factor-universe batch backfill \(SIGINT\): finishing the current step/,
    );
    assert.match(run.out.stderr, /Stopped before the end; run the command again to complete it\.\n$/);
    // the date under way was finished, not left half-done, and the backfill stopped well before the end
    const { rows } = await t.pool.query(
      "SELECT run_date, count(*) FILTER (WHERE status NOT IN ('completed', 'skipped'))::int AS open FROM batch_runs GROUP BY run_date",
    );
    assert.ok(rows.length > 0 && rows.every((r) => r.open === 0), JSON.stringify(rows));
    const done = await completedDates();
    assert.equal(rows.length, done);
    assert.ok(done < 60, `stopped after ${done} dates of about 65`);
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
