/**
 * Every list that grows with the data comes a page at a time (issue 23: a 200,000-position
 * portfolio answered 47 MB in one piece and starved the event loop): positions, their values,
 * snapshots, the user's portfolios and the pipeline's runs take `limit`/`offset`, answer a default
 * page, refuse a page above the maximum, and carry `total`, `limit` and `offset` beside the rows
 * they always had. The whole list goes out as a CSV stream. Expected rows come from the rows this
 * test inserts, not from the code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/api/server.ts';
import { loadConfig } from '../src/config.ts';
import { createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

const POSITIONS = 2500;
const SNAPSHOTS = 1200;
const RUNS = 60;
let t: TestDb;
let app: FastifyInstance;
let base: string;
let token: string;
let admin: string;
let portfolioId: number;
/** Exposure of position number k (1-based): distinct, some negative, so the |exposure| order is known. */
const exposureOf = (k: number) => (k % 2 === 0 ? -1 : 1) * ((k * 7919) % 100_003);

async function get(route: string, bearer = token) {
  const res = await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${bearer}` } });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null,
  };
}

before(async () => {
  t = await createTestDb();
  await createUser(t.db, { username: 'pager', password: 'pager-password' });
  await createUser(t.db, { username: 'boss', password: 'boss-password', isAdmin: true });
  const owner = (await t.pool.query("SELECT id FROM users WHERE username = 'pager'")).rows[0].id;
  portfolioId = (
    await t.pool.query(
      "INSERT INTO portfolios (name, owner_id, equity_balance) VALUES ('big', $1, 1e9) RETURNING id",
      [owner],
    )
  ).rows[0].id;
  // Positions S00001…S02500 in id order; values on one date with exposureOf(k).
  await t.pool.query(
    `INSERT INTO positions (portfolio_id, symbol, position_type, quantity)
     SELECT $1, 'S' || lpad(k::text, 5, '0'), 'LONG', k FROM generate_series(1, $2) k ORDER BY k`,
    [portfolioId, POSITIONS],
  );
  await t.pool.query(
    `INSERT INTO position_daily_values (position_id, value_date, portfolio_id, price, exposure, pnl_method)
     SELECT p.id, '2024-06-28', $1, 10, CASE WHEN k % 2 = 0 THEN -1 ELSE 1 END * ((k * 7919) % 100003), 'price'
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM positions WHERE portfolio_id = $1) p`,
    [portfolioId],
  );
  await t.pool.query(
    `INSERT INTO portfolio_snapshots (portfolio_id, snapshot_date, equity, total_value, cash, long_exposure,
       short_exposure, gross_exposure, net_exposure, positions_count)
     SELECT $1, date '2020-01-01' + k, 1e9 + k, 0, 0, 0, 0, 0, 0, 0 FROM generate_series(0, $2 - 1) k`,
    [portfolioId, SNAPSHOTS],
  );
  await t.pool.query(
    `INSERT INTO batch_runs (id, kind, from_date, to_date, status, created_at)
     SELECT gen_random_uuid(), 'run', date '2024-01-01' + k, date '2024-01-01' + k, 'completed',
            timestamptz '2024-01-01' + k * interval '1 day'
       FROM generate_series(1, $1) k`,
    [RUNS],
  );
  const config = { ...loadConfig({}), loginLimitPerUser: 1000, loginLimitPerAddress: 1000 };
  app = await buildServer({
    db: t.db,
    pool: t.pool,
    config,
    secret: 'pagination-test-secret-0123456789abcdef',
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const signIn = async (username: string, password: string) =>
    (
      (await (
        await fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        })
      ).json()) as { token: string }
    ).token;
  token = await signIn('pager', 'pager-password');
  admin = await signIn('boss', 'boss-password');
});
after(async () => {
  await app?.close();
  await t?.close();
});

const symbolOf = (k: number) => `S${String(k).padStart(5, '0')}`;

describe('paged lists', () => {
  it('positions: a default page of 1000 by id with the total; limit/offset pages; above the maximum a 400', async () => {
    const first = await get(`/api/v1/portfolios/${portfolioId}/positions`);
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.total, first.body.limit, first.body.offset], [POSITIONS, 1000, 0]);
    assert.equal(first.body.positions.length, 1000);
    assert.equal(first.body.positions[0].symbol, symbolOf(1));
    assert.equal(first.body.positions[999].symbol, symbolOf(1000));
    const last = await get(`/api/v1/portfolios/${portfolioId}/positions?limit=300&offset=2400`);
    assert.equal(last.body.positions.length, 100);
    assert.deepEqual(
      last.body.positions.map((p: { symbol: string }) => p.symbol),
      Array.from({ length: 100 }, (_, i) => symbolOf(2401 + i)),
    );
    const past = await get(`/api/v1/portfolios/${portfolioId}/positions?offset=5000`);
    assert.deepEqual([past.body.positions.length, past.body.total], [0, POSITIONS]);
    const tooMany = await get(`/api/v1/portfolios/${portfolioId}/positions?limit=10001`);
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.message, /"limit"/);
  });

  it('position values: largest |exposure| first, pages that join into the whole list, with the date and total', async () => {
    const expected = Array.from({ length: POSITIONS }, (_, i) => i + 1)
      .sort((a, b) => Math.abs(exposureOf(b)) - Math.abs(exposureOf(a)) || a - b)
      .map(symbolOf);
    const seen: string[] = [];
    for (let offset = 0; offset < POSITIONS; offset += 1000) {
      const r = await get(`/api/v1/portfolios/${portfolioId}/positions/values?offset=${offset}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.date, '2024-06-28');
      assert.equal(r.body.total, POSITIONS);
      seen.push(...r.body.positions.map((p: { symbol: string }) => p.symbol));
    }
    assert.deepEqual(seen, expected);
  });

  it('snapshots: oldest first, a default page of 1000 of 1200, the rest on the next page', async () => {
    const r = await get(`/api/v1/portfolios/${portfolioId}/snapshots`);
    assert.deepEqual([r.body.total, r.body.snapshots.length], [SNAPSHOTS, 1000]);
    assert.equal(r.body.snapshots[0].date, '2020-01-01');
    const rest = await get(`/api/v1/portfolios/${portfolioId}/snapshots?offset=1000`);
    assert.equal(rest.body.snapshots.length, 200);
    assert.equal(rest.body.snapshots[199].equity, 1e9 + SNAPSHOTS - 1);
    const window = await get(
      `/api/v1/portfolios/${portfolioId}/snapshots?from=2020-01-11&to=2020-01-20&limit=5`,
    );
    assert.deepEqual([window.body.total, window.body.snapshots.length], [10, 5]);
  });

  it('the user’s portfolios and the pipeline’s runs carry their totals too', async () => {
    const mine = await get('/api/v1/portfolios');
    assert.deepEqual([mine.body.total, mine.body.portfolios.length], [1, 1]);
    const runs = await get('/api/v1/batch/runs?limit=25&offset=50', admin);
    assert.equal(runs.status, 200);
    assert.deepEqual(
      [runs.body.total, runs.body.runs.length, runs.body.limit, runs.body.offset],
      [RUNS, 10, 25, 50],
    );
  });

  it('the whole list as a CSV stream: a header and one line per position, every position once', async () => {
    const r = await get(`/api/v1/portfolios/${portfolioId}/positions/values.csv`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(
      r.headers.get('content-disposition') ?? '',
      /attachment; filename="portfolio-\d+-positions-2024-06-28\.csv"/,
    );
    const lines = r.text.trimEnd().split('\n');
    assert.equal(
      lines[0],
      'position_id,symbol,position_type,quantity,beta_symbol,price,market_value,exposure,weight,delta,gamma,vega,theta,pnl',
    );
    assert.equal(lines.length, POSITIONS + 1);
    const symbols = lines.slice(1).map((l) => l.split(',')[1]);
    assert.deepEqual(
      symbols,
      Array.from({ length: POSITIONS }, (_, i) => symbolOf(i + 1)),
    );
    const row7 = lines[7]!.split(',');
    assert.deepEqual([row7[1], row7[3], row7[5], row7[7]], [symbolOf(7), '7', '10', String(exposureOf(7))]);
    // another user's portfolio is not found, as everywhere
    assert.equal((await get(`/api/v1/portfolios/${portfolioId}/positions/values.csv`, admin)).status, 404);
  });
});
