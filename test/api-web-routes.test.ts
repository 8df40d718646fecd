/**
 * The API pieces the web app relies on: `fields=` and every sort column on the dashboard route, a
 * symbol's price history, positions valued on a date, the browser session (httpOnly cookie, me,
 * logout), and a what-if 400 that names the bad row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/api/server.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { DASHBOARD_COLUMNS } from '../src/metrics/dashboard.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

const D = '2026-10-30';
let t: TestDb;
let app: FastifyInstance;
let base: string;
let token: string;

async function get(path: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  const config = { ...loadConfig({}), dualWrite: false, apiCacheMs: 0 };
  await runPipeline(t, config, { from: D, to: D, kind: 'run' });
  app = await buildServer({
    db: t.db,
    pool: t.pool,
    config,
    secret: 'test-secret-of-enough-length-0123456789',
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  token = ((await res.json()) as { token: string }).token;
});
after(async () => {
  await app.close();
  await t.close();
});

describe('dashboard route for the web app', () => {
  it('fields= returns only the listed columns (and symbol), the same rows in the same order', async () => {
    const all = await get('/api/v1/data/symbols?sort_by=factor_value&sort_order=desc&limit=20');
    const some = await get(
      '/api/v1/data/symbols?sort_by=factor_value&sort_order=desc&limit=20&fields=sector,factor_value',
    );
    assert.equal(some.status, 200);
    assert.deepEqual(Object.keys(some.body.symbols[0]), ['symbol', 'sector', 'factor_value']);
    assert.deepEqual(
      some.body.symbols,
      all.body.symbols.map((r: any) => ({
        symbol: r.symbol,
        sector: r.sector,
        factor_value: r.factor_value,
      })),
    );
    assert.equal(some.body.total_count, all.body.total_count);
    assert.equal(some.body.metrics_date, D);
  });

  it('an unknown field is a 400 naming the parameter', async () => {
    const r = await get('/api/v1/data/symbols?fields=symbol,password_hash');
    assert.equal(r.status, 400);
    assert.match(r.body.message, /"fields"/);
  });

  it('sorts by every column: the first rows are those of the table sorted here, nulls last', async () => {
    const everything = await get('/api/v1/data/symbols?limit=500&sort_by=symbol&sort_order=asc');
    const rows = everything.body.symbols as Record<string, string | number | null>[];
    assert.equal(rows.length, everything.body.total_count);
    for (const column of DASHBOARD_COLUMNS) {
      for (const order of ['asc', 'desc'] as const) {
        const r = await get(
          `/api/v1/data/symbols?sort_by=${column}&sort_order=${order}&limit=5&fields=${column}`,
        );
        assert.equal(r.status, 200, column);
        const expected = [...rows]
          .sort((a, b) => {
            const x = a[column] ?? null;
            const y = b[column] ?? null;
            if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
            const c = x < y ? -1 : x > y ? 1 : 0;
            return (order === 'asc' ? c : -c) || (a.symbol! < b.symbol! ? -1 : 1);
          })
          .slice(0, 5)
          .map((x) => x[column]);
        assert.deepEqual(
          r.body.symbols.map((x: any) => x[column]),
          expected,
          `${column} ${order}`,
        );
      }
    }
  });

  it('a filter counts the matching rows; a page past the end is empty with the same count', async () => {
    const all = (await get('/api/v1/data/symbols?limit=500')).body.symbols as any[];
    const sector = all[0].sector as string;
    const matching = all.filter((r) => r.sector === sector && r.pe_ratio !== null && r.pe_ratio <= 30).length;
    const r = await get(
      `/api/v1/data/symbols?sector=${encodeURIComponent(sector)}&max_pe_ratio=30&limit=500`,
    );
    assert.equal(r.body.total_count, matching);
    assert.equal(r.body.symbols.length, matching);
    const past = await get(
      `/api/v1/data/symbols?sector=${encodeURIComponent(sector)}&max_pe_ratio=30&offset=1000`,
    );
    assert.deepEqual(past.body, {
      symbols: [],
      total_count: matching,
      metrics_date: D,
      nearest_metrics_date: null,
    });
  });
});

describe('price history and position values', () => {
  it("a symbol's closes between two dates, oldest first, as stored", async () => {
    const symbol = (await get('/api/v1/data/symbols?limit=1')).body.symbols[0].symbol as string;
    const r = await get(`/api/v1/data/symbols/${symbol}/prices?from=2026-10-01&to=${D}`);
    assert.equal(r.status, 200);
    const stored = await t.pool.query(
      `SELECT date, close FROM market_data_cache WHERE symbol = $1 AND date BETWEEN '2026-10-01' AND $2 ORDER BY date`,
      [symbol, D],
    );
    assert.ok(stored.rows.length > 15);
    assert.deepEqual(
      r.body.dates,
      stored.rows.map((x) => x.date),
    );
    assert.deepEqual(
      r.body.closes,
      stored.rows.map((x) => x.close),
    );
    assert.equal((await get('/api/v1/data/symbols/NOSUCH/prices')).status, 404);
    assert.equal(
      (await get(`/api/v1/data/symbols/${symbol}/prices?from=2026-10-02&to=2026-10-01`)).status,
      400,
    );
  });

  it("a portfolio's positions valued on the date: every position, market values summing to the snapshot's", async () => {
    const id = (await get('/api/v1/portfolios')).body.portfolios[0].id as number;
    const r = await get(`/api/v1/portfolios/${id}/positions/values`);
    assert.equal(r.status, 200);
    assert.equal(r.body.date, D);
    const count = await t.pool.query('SELECT count(*)::int AS n FROM positions WHERE portfolio_id = $1', [
      id,
    ]);
    assert.equal(r.body.positions.length, count.rows[0].n);
    const snap = await t.pool.query(
      'SELECT total_value FROM portfolio_snapshots WHERE portfolio_id = $1 AND snapshot_date = $2',
      [id, D],
    );
    const sum = r.body.positions.reduce((s: number, p: any) => s + (p.market_value ?? 0), 0);
    assert.ok(
      Math.abs(sum - snap.rows[0].total_value) <= 1e-6 * Math.abs(sum),
      `${sum} vs ${snap.rows[0].total_value}`,
    );
    assert.equal((await get('/api/v1/portfolios/999999/positions/values')).status, 404);
  });
});

describe('browser session', () => {
  it('sign-in sets an httpOnly SameSite=Strict cookie that authenticates; me names the user; logout clears it', async () => {
    const bad = await fetch(`${base}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'nope' }),
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('set-cookie'), null);
    const res = await fetch(`${base}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.username, 'demo');
    assert.equal('token' in body, false, 'the token is only in the cookie');
    const setCookie = res.headers.get('set-cookie')!;
    assert.match(setCookie, /^fu_session=[\w-]+\.[\w-]+\.[\w-]+;/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    assert.equal((await get('/api/v1/portfolios', { cookie })).status, 200);
    assert.deepEqual((await get('/api/v1/auth/me', { cookie })).body, { username: 'demo', admin: false });
    assert.equal((await get('/api/v1/auth/me', {})).status, 401);
    assert.equal((await get('/api/v1/portfolios', { cookie: 'fu_session=not-a-token' })).status, 401);
    const out = await fetch(`${base}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { cookie, origin: base },
    });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie')!, /^fu_session=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/);
  });
});

describe('what-if errors', () => {
  it('a bad row is named by its index, in the message and the details', async () => {
    const symbol = (await get('/api/v1/data/symbols?limit=1')).body.symbols[0].symbol as string;
    const res = await fetch(`${base}/api/v1/analytics/what-if`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        equity: 1e6,
        positions: [
          { symbol, position_type: 'LONG', quantity: 10 },
          { symbol, position_type: 'LONG', quantity: 5 },
          { underlying_symbol: symbol, position_type: 'LC', quantity: 1 },
        ],
      }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as any;
    assert.match(body.message, /positions\/2\//);
    assert.equal(body.details[0].index, 2);
  });
});
