import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../src/db/throwaway.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

/**
 * `npm start` on an empty database serves first and computes after: the console names the address
 * and the demo sign-in once the port answers, the pipeline's recent days are then computed in the
 * background, and GET /api/v1/progress reports them until they are done. Behaviour only: how fast
 * the port answers is bench:startup's figure, not an assertion.
 */
const cli = path.resolve('bin/factor-universe.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestDb;
let child: ChildProcess;
let out = '';

/** Resolves with the first match of `re` in the child's output (waits at most `ms`, then fails). */
async function waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = out.match(re);
    if (m) return m;
    if (child.exitCode !== null) throw new Error(`start exited ${child.exitCode}:\n${out}`);
    if (Date.now() > end) throw new Error(`no ${re} in the output:\n${out}`);
    await sleep(50);
  }
}

before(async () => {
  t = await createTestDb();
  child = spawn(process.execPath, [cli, 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      FU_DATA_DIR: scratchDir(),
      FU_PORT: String(await freePort()),
      FU_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
});
after(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await t.close();
});

describe('npm start: serve first, compute in the background', () => {
  let base = '';
  let token = '';

  it('says where to point a browser, and the port answers, before the recent days are computed', async () => {
    const m = await waitFor(/Open (http:\/\/127\.0\.0\.1:\d+) and sign in as demo \/ demo-password/, 180_000);
    base = m[1]!;
    assert.doesNotMatch(out.slice(0, m.index), /computed\./, 'nothing computed before serving');
    assert.equal((await fetch(`${base}/health`)).status, 200);
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
    });
    assert.equal(login.status, 200);
    token = ((await login.json()) as { token: string }).token;
  });

  it('reports the background run through GET /api/v1/progress until its 60 days are done', async () => {
    const seen: { days_done: number; days_total: number; from: string; to: string }[] = [];
    const end = Date.now() + 600_000;
    for (;;) {
      const r = await fetch(`${base}/api/v1/progress`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200);
      const { run } = (await r.json()) as { run: (typeof seen)[number] | null };
      if (run) seen.push(run);
      if (!run && /computed\./.test(out)) break;
      assert.ok(Date.now() < end, `still computing: ${JSON.stringify(seen.at(-1))}\n${out}`);
      await sleep(200);
    }
    assert.ok(seen.length > 0, 'the run was seen in progress');
    for (const p of seen) {
      assert.equal(p.days_total, 60);
      assert.ok(p.days_done >= 0 && p.days_done <= 60);
      assert.ok(p.from <= p.to);
    }
    // days done only grow
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.days_done >= seen[i - 1]!.days_done);
    // and the pages have the last day
    const d = await fetch(`${base}/api/v1/data/symbols?limit=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(d.status, 200);
    assert.equal(((await d.json()) as { symbols: unknown[] }).symbols.length, 5);
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0, out);
  });
});
