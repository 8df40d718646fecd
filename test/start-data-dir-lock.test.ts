/**
 * One `start` per data folder (issue 23 item 5). A second `start` on a folder that a live process
 * serves used to attach to that process's embedded PostgreSQL and then answer 503 for ever once the
 * first stopped; now it refuses at once, naming the process, and leaves the folder to it. A lock
 * left by a process that is gone is taken over.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

const cli = path.resolve('bin/factor-universe.js');
let t: TestDb;
before(async () => {
  t = await createTestDb();
});
after(async () => t?.close());

/** A process that stays alive until killed: the stand-in for the first `start`. */
function longLived() {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

describe('the data folder lock of start', () => {
  it('a second start on a folder a live process holds refuses, naming that process, and touches nothing', async () => {
    const dir = scratchDir();
    const first = longLived();
    try {
      const lock = JSON.stringify({ pid: first.pid, since: '2026-12-03T18:00:00.000Z' });
      writeFileSync(path.join(dir, 'start.lock'), lock);
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [cli, 'start', '--no-serve'],
          { env: { ...process.env, FU_DATA_DIR: dir, DATABASE_URL: t.url }, timeout: 30_000 },
          (error, _stdout, stderr) => resolve({ code: error ? (child.exitCode ?? -1) : 0, stderr }),
        );
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `in use by another "factor-universe start" \\(process ${first.pid}, since 2026-12-03T18:00:00.000Z\\)`,
        ),
      );
      assert.equal(
        readFileSync(path.join(dir, 'start.lock'), 'utf8'),
        lock,
        'the lock is still the first one’s',
      );
      assert.equal(
        Number((await t.pool.query('SELECT count(*) AS n FROM market_data_cache')).rows[0].n),
        0,
        'the second start loaded nothing',
      );
    } finally {
      first.kill();
    }
  });

  it('a lock whose process is gone is taken over; released, the file goes', async () => {
    const { lockDataDir } = (await import('../src/data-dir-lock.ts')) as {
      lockDataDir: (dir: string) => () => void;
    };
    const dir = scratchDir();
    const gone = longLived();
    await new Promise((resolve) => {
      gone.on('exit', resolve);
      gone.kill();
    });
    writeFileSync(path.join(dir, 'start.lock'), JSON.stringify({ pid: gone.pid, since: 'earlier' }));
    const release = lockDataDir(dir);
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'start.lock'), 'utf8')).pid, process.pid);
    // while held, a holder that is alive (this process, seen from a child) refuses the child
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          '-e',
          `import('${path.resolve('src/data-dir-lock.ts')}').then((m) => m.lockDataDir(${JSON.stringify(dir)}))`,
        ],
        { timeout: 30_000 },
        (error, _o, stderr) => resolve({ code: error ? (c.exitCode ?? -1) : 0, stderr }),
      );
    });
    assert.notEqual(child.code, 0);
    assert.match(child.stderr, new RegExp(`process ${process.pid}`));
    release();
    assert.equal(existsSync(path.join(dir, 'start.lock')), false);
  });
});
