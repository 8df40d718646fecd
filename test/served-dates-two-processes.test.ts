import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../src/db/throwaway.ts';
import { createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

/**
 * Two `factor-universe serve` processes hold the latest date in memory; a recomputation of that
 * date committed in the database (the day's rows replaced in one transaction, as the metrics stage
 * writes a day) reaches both through LISTEN/NOTIFY, and while it happens every answer is wholly the
 * old day or wholly the new one.
 *
 * The servers' SQL answer cache is set to a minute: were the page read from SQL instead of the
 * memory, the new day could not show within the test's wait, so seeing it proves the memory was
 * replaced.
 */
const cli = path.resolve('bin/factor-universe.js');
const D = '2026-10-30';
const SYMBOLS = Array.from({ length: 25 }, (_, i) => `S${String(i).padStart(2, '0')}`);
let t: TestDb;
const servers: { child: ChildProcess; base: string; token: string }[] = [];

/** Replaces the day: every symbol's price becomes `price`, in one transaction (delete, then insert). */
async function writeDay(price: number) {
  const client = await t.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM symbol_daily_metrics WHERE metric_date = $1', [D]);
    await client.query(
      `INSERT INTO symbol_daily_metrics (symbol, metric_date, current_price, market_cap, sector)
       SELECT s, $1::date, $2::float8, 1e9, 'Energy' FROM unnest($3::text[]) AS s`,
      [D, price, SYMBOLS],
    );
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
}

// a secret strong enough for the configuration's check (32 random bytes)
const JWT_SECRET = randomBytes(32).toString('hex');

async function startServer() {
  const port = await freePort();
  const child = spawn(process.execPath, [cli, 'serve', '--port', String(port)], {
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      FU_JWT_SECRET: JWT_SECRET,
      FU_API_CACHE_MS: '60000',
      FU_HOST: '127.0.0.1',
    },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 300 || child.exitCode !== null) throw new Error('serve did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'reader', password: 'reader-password' }),
  });
  const { token } = (await login.json()) as { token: string };
  servers.push({ child, base, token });
}

/** The day's prices as one server answers them (every row of the page). */
async function prices(server: (typeof servers)[number]): Promise<number[]> {
  const r = await fetch(
    `${server.base}/api/v1/data/symbols?sort_by=symbol&sort_order=asc&limit=100&fields=symbol,current_price`,
    { headers: { authorization: `Bearer ${server.token}` } },
  );
  assert.equal(r.status, 200);
  const body = (await r.json()) as { symbols: { current_price: number }[]; metrics_date: string };
  assert.equal(body.metrics_date, D);
  assert.equal(body.symbols.length, SYMBOLS.length);
  return body.symbols.map((s) => s.current_price);
}

before(async () => {
  t = await createTestDb();
  await createUser(t.db, { username: 'reader', password: 'reader-password' });
  await writeDay(1);
  await Promise.all([startServer(), startServer()]);
});
after(async () => {
  for (const { child } of servers) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  await t.close();
});

describe('a recomputed date replaces the served day in every serve process', () => {
  it('both processes serve the new day once the recomputation commits', async () => {
    for (const s of servers)
      assert.deepEqual(
        await prices(s),
        SYMBOLS.map(() => 1),
      );
    await writeDay(2);
    for (const s of servers) {
      const end = Date.now() + 15_000;
      let seen = await prices(s);
      while (seen[0] !== 2 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        seen = await prices(s);
      }
      assert.deepEqual(
        seen,
        SYMBOLS.map(() => 2),
        s.base,
      );
    }
  });

  it('requests during replacements get one day or the other, never a mix', async () => {
    let writing = true;
    const answers: number[][] = [];
    const readers = servers.flatMap((s) =>
      [0, 1, 2].map(async () => {
        while (writing) answers.push(await prices(s));
      }),
    );
    for (let price = 3; price <= 12; price++) {
      await writeDay(price);
      await new Promise((r) => setTimeout(r, 30));
    }
    writing = false;
    await Promise.all(readers);
    assert.ok(answers.length > 20, `only ${answers.length} answers`);
    for (const a of answers) assert.equal(new Set(a).size, 1, `a mixed page: ${a.join(',')}`);
    // and the last day written is what both serve now
    for (const s of servers) {
      const end = Date.now() + 15_000;
      let seen = await prices(s);
      while (seen[0] !== 12 && Date.now() < end) seen = await prices(s);
      assert.deepEqual(
        seen,
        SYMBOLS.map(() => 12),
      );
    }
  });
});
