import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { SORTABLE } from '../src/api/routes/symbols.ts';
import { buildServer } from '../src/api/server.ts';
import { PipelineEngine } from '../src/pipeline/engine.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { importPortfolio } from '../src/imports/portfolio.ts';
import { createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

const D = '2026-10-30';
const P = '2026-10-29';
let t: TestDb;
let app: FastifyInstance;
let base: string;
let demoToken: string;
let otherToken: string;
let adminToken: string;
let otherPortfolio: number;
let engine: PipelineEngine;

async function call(
  path: string,
  token?: string,
  init: RequestInit = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  return { status: res.status, body: await res.json() };
}
const login = async (username: string, password: string) =>
  (
    await call('/api/v1/auth/login', undefined, {
      method: 'POST',
      body: JSON.stringify({ username, password }),
    })
  ).body.token as string;

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  await createUser(t.db, { username: 'other', password: 'other-password' });
  await createUser(t.db, { username: 'boss', password: 'boss-password', isAdmin: true });
  const stock = (await t.pool.query('SELECT symbol FROM company_profiles ORDER BY symbol LIMIT 1')).rows[0]
    .symbol;
  otherPortfolio = (
    await importPortfolio(
      t.pool,
      writeLines(scratchDir(), 'o.csv', ['symbol,position_type,quantity', `${stock},LONG,10`]),
      { name: 'Mine', owner: 'other', equity: 1e5 },
    )
  ).portfolioId;
  const config = { ...loadConfig({}), dualWrite: true };
  await runPipeline(t, config, { from: P, to: D, kind: 'backfill' });
  engine = await PipelineEngine.open(t, config, { log: () => undefined, schedule: false });
  engine.work(1);
  app = await buildServer({
    db: t.db,
    pool: t.pool,
    config,
    secret: 'test-secret-of-enough-length-0123456789',
    engine,
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  demoToken = await login('demo', 'demo-password');
  otherToken = await login('other', 'other-password');
  adminToken = await login('boss', 'boss-password');
});
after(async () => {
  await app.close();
  await engine.stop();
  await t.close();
});

describe('authentication', () => {
  it('health, readiness and docs need no token; the OpenAPI document validates', async () => {
    assert.deepEqual((await call('/health')).body, { status: 'ok' });
    assert.deepEqual((await call('/ready')).body, { status: 'ready', database: true, migrations: true });
    const doc = (await call('/docs/json')).body;
    await SwaggerParser.validate(structuredClone(doc));
    assert.ok(doc.paths['/api/v1/data/symbols'] && doc.paths['/api/v1/analytics/what-if']);
  });

  it('login answers a bearer token; a wrong password 401, a malformed body 400', async () => {
    const ok = await call('/api/v1/auth/login', undefined, {
      method: 'POST',
      body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.token_type, 'Bearer');
    assert.equal(
      (
        await call('/api/v1/auth/login', undefined, {
          method: 'POST',
          body: JSON.stringify({ username: 'demo', password: 'nope' }),
        })
      ).status,
      401,
    );
    assert.equal(
      (
        await call('/api/v1/auth/login', undefined, {
          method: 'POST',
          body: JSON.stringify({ username: 'demo' }),
        })
      ).status,
      400,
    );
  });

  it('every other route answers 401 without a valid token, as JSON', async () => {
    for (const path of [
      '/api/v1/data/symbols',
      '/api/v1/data/factors',
      '/api/v1/portfolios',
      '/api/v1/batch/runs',
      `/api/v1/portfolios/1/snapshots`,
    ]) {
      const r = await call(path);
      assert.equal(r.status, 401, path);
      assert.equal(r.body.error, 'unauthorized');
      assert.equal((await call(path, 'not.a.token')).status, 401);
    }
  });
});

describe('GET /api/v1/data/symbols', () => {
  let all: Record<string, any>[];
  before(async () => {
    all = (await t.pool.query('SELECT * FROM symbol_daily_metrics WHERE metric_date = $1', [D])).rows;
  });
  /** Independent ordering: nulls last, ties by symbol, byte order for text (the cluster's C collation). */
  const expectedOrder = (rows: Record<string, any>[], col: string, order: 'asc' | 'desc') =>
    [...rows]
      .sort((a, b) => {
        const x = a[col];
        const y = b[col];
        if (x === null && y === null) return a.symbol < b.symbol ? -1 : 1;
        if (x === null) return 1;
        if (y === null) return -1;
        const c = x < y ? -1 : x > y ? 1 : 0;
        return (order === 'asc' ? c : -c) || (a.symbol < b.symbol ? -1 : 1);
      })
      .map((r) => r.symbol);

  it('answers the latest date with total_count and at most 100 rows by default', async () => {
    const r = await call('/api/v1/data/symbols', demoToken);
    assert.equal(r.status, 200);
    assert.deepEqual(
      [r.body.metrics_date, r.body.total_count, r.body.symbols.length],
      [D, all.length, Math.min(100, all.length)],
    );
    assert.deepEqual(
      Object.keys(r.body.symbols[0]).sort(),
      [
        'symbol',
        'company_name',
        'sector',
        'industry',
        'current_price',
        'market_cap',
        'enterprise_value',
        'pe_ratio',
        'ps_ratio',
        'pb_ratio',
        'return_1d',
        'return_mtd',
        'return_ytd',
        'return_1m',
        'return_3m',
        'return_1y',
        'factor_value',
        'factor_growth',
        'factor_momentum',
        'factor_quality',
        'factor_size',
        'factor_low_vol',
        'factor_growth_value_spread',
        'factor_momentum_spread',
        'factor_size_spread',
        'factor_quality_spread',
        'factor_market_beta',
        'specific_vol',
        'data_quality_score',
      ].sort(),
    );
  });

  it('sorts by every allowed column, both ways, nulls last', async () => {
    for (const col of SORTABLE) {
      for (const order of ['asc', 'desc'] as const) {
        const r = await call(`/api/v1/data/symbols?sort_by=${col}&sort_order=${order}&limit=500`, demoToken);
        assert.equal(r.status, 200);
        assert.deepEqual(
          r.body.symbols.map((s: { symbol: string }) => s.symbol),
          expectedOrder(all, col, order),
          `${col} ${order}`,
        );
      }
    }
  });

  it('filters by sector, market cap, P/E and text anywhere in symbol or name as an independent filter would', async () => {
    const sector = all.find((r) => r.sector)!.sector as string;
    const caps = all
      .map((r) => r.market_cap)
      .filter((x) => x !== null)
      .sort((a, b) => a - b);
    const [lo, hi] = [caps[Math.floor(caps.length / 4)], caps[Math.floor((3 * caps.length) / 4)]];
    const cases: [string, (r: Record<string, any>) => boolean][] = [
      [`sector=${encodeURIComponent(sector)}`, (r) => r.sector === sector],
      [
        `min_market_cap=${lo}&max_market_cap=${hi}`,
        (r) => r.market_cap !== null && r.market_cap >= lo && r.market_cap <= hi,
      ],
      ['max_pe_ratio=20', (r) => r.pe_ratio !== null && r.pe_ratio <= 20],
      [
        `q=${all[0]!.symbol.slice(0, 1).toLowerCase()}`,
        (r) =>
          r.symbol.toLowerCase().includes(all[0]!.symbol.slice(0, 1).toLowerCase()) ||
          (r.company_name ?? '').toLowerCase().includes(all[0]!.symbol.slice(0, 1).toLowerCase()),
      ],
    ];
    for (const [query, keep] of cases) {
      const r = await call(
        `/api/v1/data/symbols?${query}&sort_by=symbol&sort_order=asc&limit=500`,
        demoToken,
      );
      const expected = all
        .filter(keep)
        .map((x) => x.symbol)
        .sort();
      assert.deepEqual(
        r.body.symbols.map((s: { symbol: string }) => s.symbol),
        expected,
        query,
      );
      assert.equal(r.body.total_count, expected.length);
    }
  });

  it('pages: limit and offset walk the whole sorted list once', async () => {
    const pages: string[] = [];
    for (let offset = 0; offset < all.length; offset += 7) {
      const r = await call(
        `/api/v1/data/symbols?sort_by=factor_market_beta&limit=7&offset=${offset}`,
        demoToken,
      );
      assert.equal(r.body.total_count, all.length);
      pages.push(...r.body.symbols.map((s: { symbol: string }) => s.symbol));
    }
    assert.deepEqual(pages, expectedOrder(all, 'factor_market_beta', 'desc'));
    const beyond = await call(`/api/v1/data/symbols?offset=${all.length + 5}`, demoToken);
    assert.deepEqual([beyond.body.symbols.length, beyond.body.total_count], [0, all.length]);
  });

  it('a past date answers that date', async () => {
    const r = await call(`/api/v1/data/symbols?date=${P}&limit=1`, demoToken);
    assert.equal(r.body.metrics_date, P);
  });

  it('answers 400 naming the parameter for each kind of bad input, and runs no SQL from it', async () => {
    const bad: [string, RegExp][] = [
      ['sort_by=evil', /parameter "sort_by"/],
      [`sort_by=${encodeURIComponent('market_cap; DROP TABLE users; --')}`, /parameter "sort_by"/],
      [`sector=${encodeURIComponent("Energy'; DROP TABLE users; --")}`, /parameter "sector"/],
      ['sort_order=sideways', /parameter "sort_order"/],
      ['limit=501', /parameter "limit"/],
      ['limit=-1', /parameter "limit"/],
      ['offset=-1', /parameter "offset"/],
      ['date=2024-13-01', /parameter "date"/],
      ['date=yesterday', /parameter "date"/],
      ['min_market_cap=lots', /parameter "min_market_cap"/],
      ['min_market_cap=10&max_market_cap=5', /"min_market_cap" is above "max_market_cap"/],
      ['colour=blue', /colour|additional/],
    ];
    for (const [query, message] of bad) {
      const r = await call(`/api/v1/data/symbols?${query}`, demoToken);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.error, 'bad_request');
      assert.match(r.body.message, message, query);
    }
    assert.equal((await t.pool.query('SELECT count(*)::int AS n FROM users')).rows[0].n, 3, 'users survived');
  });
});

describe('symbol detail and factors', () => {
  it('a symbol: metrics, profile, 11 betas with R², observations and flags, and history', async () => {
    const symbol = (await t.pool.query('SELECT symbol FROM company_profiles ORDER BY symbol LIMIT 1')).rows[0]
      .symbol;
    const r = await call(`/api/v1/data/symbols/${symbol}`, demoToken);
    assert.equal(r.status, 200);
    assert.equal(r.body.metrics.symbol, symbol);
    assert.equal(r.body.betas.length, 11);
    assert.ok(
      r.body.betas.every(
        (b: { observations: number; quality_flag: string }) => b.observations > 0 && b.quality_flag,
      ),
    );
    assert.deepEqual([...new Set(r.body.history.map((h: { date: string }) => h.date))], [P, D]);
    assert.equal((await call('/api/v1/data/symbols/NOSUCH', demoToken)).status, 404);
  });

  it('the factor definitions', async () => {
    const r = await call('/api/v1/data/factors', demoToken);
    assert.equal(r.body.factors.length, 11);
    assert.equal(r.body.factors[10].name, 'Market Beta');
  });
});

describe('portfolios', () => {
  it("lists only the user's own portfolios; another user's answers 404 on every route", async () => {
    const mine = (await call('/api/v1/portfolios', demoToken)).body.portfolios;
    assert.deepEqual(
      mine.map((p: { name: string }) => p.name),
      ['Long/Short Equity', 'ETF Allocation', 'Options Overlay'],
    );
    for (const sub of [
      '',
      '/positions',
      '/factor-exposures',
      '/positions/factor-exposures',
      '/snapshots',
      '/stress-tests',
      '/risk',
      '/var',
      '/hedges',
      '/attribution',
    ]) {
      const r = await call(`/api/v1/portfolios/${otherPortfolio}${sub}`, demoToken);
      assert.equal(r.status, 404, sub);
      assert.equal(r.body.error, 'not_found');
      assert.equal((await call(`/api/v1/portfolios/${otherPortfolio}${sub}`, otherToken)).status, 200, sub);
    }
    assert.equal((await call('/api/v1/portfolios/99999', demoToken)).status, 404);
    assert.equal((await call('/api/v1/portfolios/abc', demoToken)).status, 400);
  });

  it('exposures, positions, legacy rows (paged), snapshots and stress tests of a portfolio', async () => {
    const id = (await call('/api/v1/portfolios', demoToken)).body.portfolios[2].id;
    const positions = (await call(`/api/v1/portfolios/${id}/positions`, demoToken)).body.positions;
    assert.equal(positions.length, 12);
    const fx = (await call(`/api/v1/portfolios/${id}/factor-exposures?date=${D}`, demoToken)).body;
    assert.deepEqual([fx.date, fx.betas_date, fx.exposures.length], [D, D, 11]);
    const none = (await call(`/api/v1/portfolios/${id}/factor-exposures?date=2001-01-02`, demoToken)).body;
    assert.deepEqual(
      [none.date, none.betas_date, none.equity, none.exposures],
      ['2001-01-02', null, null, []],
    );
    const stored = (
      await t.pool.query(
        "SELECT exposure_value FROM factor_exposures WHERE portfolio_id = $1 AND calculation_date = $2 AND factor_id = 11 AND source = 'symbol'",
        [id, D],
      )
    ).rows[0].exposure_value;
    assert.equal(fx.exposures[10].exposure, stored);
    const page = (
      await call(`/api/v1/portfolios/${id}/positions/factor-exposures?date=${D}&limit=5&offset=5`, demoToken)
    ).body;
    const total = (
      await t.pool.query(
        'SELECT count(*)::int AS n FROM position_factor_exposures WHERE portfolio_id = $1 AND calculation_date = $2',
        [id, D],
      )
    ).rows[0].n;
    assert.deepEqual([page.total_count, page.rows.length], [total, 5]);
    const snaps = (await call(`/api/v1/portfolios/${id}/snapshots?from=${P}&to=${D}`, demoToken)).body
      .snapshots;
    assert.deepEqual(
      snaps.map((s: { date: string }) => s.date),
      [P, D],
    );
    assert.equal(snaps[0].daily_pnl, 0);
    const stress = (await call(`/api/v1/portfolios/${id}/stress-tests?date=${D}`, demoToken)).body;
    assert.equal(stress.length, 11);
    assert.equal((await call(`/api/v1/portfolios/${id}/snapshots?from=2026-13-01`, demoToken)).status, 400);
  });
});

describe('POST /api/v1/analytics/what-if', () => {
  it('answers the exposures of hypothetical positions and stores nothing', async () => {
    const { symbol, close } = (
      await t.pool.query(
        'SELECT m.symbol, m.close FROM market_data_cache m JOIN company_profiles c USING (symbol) WHERE m.date = $1 ORDER BY 1 LIMIT 1',
        [D],
      )
    ).rows[0];
    const beta = (
      await t.pool.query(
        'SELECT beta FROM symbol_factor_exposures WHERE symbol = $1 AND calculation_date = $2 AND factor_id = 11',
        [symbol, D],
      )
    ).rows[0].beta;
    const before = (await t.pool.query('SELECT count(*)::int AS n FROM factor_exposures')).rows[0].n;
    const r = await call('/api/v1/analytics/what-if', demoToken, {
      method: 'POST',
      body: JSON.stringify({
        equity: 100000,
        date: D,
        positions: [
          { symbol, position_type: 'LONG', quantity: 100 },
          {
            position_type: 'LC',
            quantity: 1,
            underlying_symbol: symbol,
            strike_price: 50,
            expiration_date: '2027-01-15',
          },
        ],
      }),
    });
    assert.equal(r.status, 200);
    const market = r.body.exposures.find((e: { factor: string }) => e.factor === 'Market Beta');
    const call_ = r.body.positions[1];
    const expected = ((100 * close + call_.delta * 100 * close) * beta) / 100000;
    assert.ok(Math.abs(market.exposure - expected) < 1e-12, `${market.exposure} vs ${expected}`);
    assert.equal((await t.pool.query('SELECT count(*)::int AS n FROM factor_exposures')).rows[0].n, before);
  });

  it('validates every position and names the one at fault', async () => {
    const bad: [unknown, RegExp][] = [
      [{ position_type: 'SHORT', symbol: 'AAA', quantity: 5 }, /positions\/0\/quantity.*negative/],
      [
        { position_type: 'LC', quantity: 1, underlying_symbol: 'AAA', expiration_date: '2027-01-15' },
        /positions\/0\/strike_price/,
      ],
      [{ position_type: 'BUY', symbol: 'AAA', quantity: 5 }, /position_type/],
      [
        { position_type: 'LONG', symbol: 'AAA', quantity: 5, expiration_date: '2027-02-30' },
        /expiration_date/,
      ],
    ];
    for (const [position, message] of bad) {
      const r = await call('/api/v1/analytics/what-if', demoToken, {
        method: 'POST',
        body: JSON.stringify({ equity: 1000, positions: [position] }),
      });
      assert.equal(r.status, 400, JSON.stringify(position));
      assert.match(r.body.message, message);
    }
    assert.equal(
      (
        await call('/api/v1/analytics/what-if', demoToken, {
          method: 'POST',
          body: JSON.stringify({ equity: -1, positions: [] }),
        })
      ).status,
      400,
    );
  });
});

describe('risk routes', () => {
  it('the risk model: a symmetric 6×6 covariance and the 7 proxies', async () => {
    const r = (await call(`/api/v1/risk-model?date=${D}`, demoToken)).body;
    assert.equal(r.date, D);
    assert.equal(r.half_life, 63);
    assert.deepEqual(r.factors, ['Value', 'Growth', 'Momentum', 'Quality', 'Size', 'Low Volatility']);
    assert.deepEqual(r.proxies, ['SPY', 'VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV']);
    for (let i = 0; i < 6; i++) {
      assert.ok(r.covariance[i][i] > 0);
      for (let j = 0; j < 6; j++) assert.equal(r.covariance[i][j], r.covariance[j][i]);
    }
    assert.equal((await call('/api/v1/risk-model?date=2001-01-02', demoToken)).status, 404);
    assert.equal((await call('/api/v1/risk-model?date=yesterday', demoToken)).status, 400);
  });

  it("a portfolio's risk, VaR, hedges, stress tests and attribution", async () => {
    const id = (await call('/api/v1/portfolios', demoToken)).body.portfolios[0].id;
    const risk = (await call(`/api/v1/portfolios/${id}/risk?date=${D}`, demoToken)).body;
    assert.equal(risk.date, D);
    assert.ok(risk.total_risk > 0);
    assert.ok(Math.abs(risk.total_risk_dollars - risk.total_risk * risk.equity) < 1e-6);
    const percents = [...risk.factors, ...risk.symbols].reduce(
      (s: number, c: { percent: number }) => s + c.percent,
      0,
    );
    assert.ok(Math.abs(percents - 1) < 1e-12, String(percents));
    const byPosition = risk.positions.reduce((s: number, c: { percent: number }) => s + c.percent, 0);
    assert.ok(Math.abs(byPosition - 1) < 1e-12);
    const v = (await call(`/api/v1/portfolios/${id}/var?date=${D}`, demoToken)).body;
    // parametric VaR95 = 1.6448536 × σ / √252 × equity
    assert.ok(
      Math.abs(v.parametric.var_95 - (1.6448536269514722 * risk.total_risk_dollars) / Math.sqrt(252)) < 1e-6,
    );
    assert.equal(v.historical.days, 250);
    assert.ok(v.historical.es_99 >= v.historical.var_99);
    const h = (await call(`/api/v1/portfolios/${id}/hedges?date=${D}`, demoToken)).body;
    assert.equal(h.etfs.length, 7);
    assert.ok(h.factor_risk_after < h.factor_risk_before);
    assert.equal(h.market_hedge.symbol, 'SPY');
    const stress = (await call(`/api/v1/portfolios/${id}/stress-tests`, demoToken)).body;
    const rates = stress.find((s: { scenario: string }) => s.scenario === 'Rates +100bp');
    assert.deepEqual([rates.status, rates.pnl, rates.kind], ['not_applicable', null, 'shock']);
    assert.match(rates.reason, /TLT/);
    const a = (await call(`/api/v1/portfolios/${id}/attribution?from=${P}&to=${D}`, demoToken)).body;
    assert.equal(a.days, 2);
    const parts = a.factors.reduce((s: number, f: { pnl: number }) => s + f.pnl, 0) + a.specific_pnl;
    assert.ok(Math.abs(parts - a.total_pnl) < 1e-6);
    const snaps = (
      await t.pool.query('SELECT sum(daily_pnl) AS s FROM portfolio_snapshots WHERE portfolio_id = $1', [id])
    ).rows[0].s;
    assert.ok(Math.abs(a.total_pnl - snaps) < 1e-6);
    assert.equal(
      (await call(`/api/v1/portfolios/${id}/attribution?from=${D}&to=${P}`, demoToken)).status,
      400,
    );
    assert.equal((await call(`/api/v1/portfolios/${id}/risk?date=2001-01-02`, demoToken)).status, 404);
  });

  it('what-if answers risk, VaR and hedges of the posted book', async () => {
    const r = await call('/api/v1/analytics/what-if', demoToken, {
      method: 'POST',
      body: JSON.stringify({
        equity: 1e6,
        date: D,
        positions: [{ symbol: 'SPY', position_type: 'LONG', quantity: 1000 }],
      }),
    });
    assert.equal(r.status, 200);
    // a book of SPY alone at weight w: its risk is w × σ_SPY, its tracking error to SPY (1 − w) × σ_SPY, and
    // its beta to SPY w, so the market hedge sells exactly the position
    const mv = r.body.positions[0].exposure;
    const w = mv / 1e6;
    const te = ((1 - w) / w) * r.body.risk.total_risk;
    assert.ok(Math.abs(r.body.risk.tracking_error - te) < 1e-12, `${r.body.risk.tracking_error} vs ${te}`);
    assert.ok(Math.abs(r.body.hedges.market_hedge.notional + mv) < 1e-9 * mv);
    assert.ok(r.body.var.parametric.var_95 > 0);
    assert.equal(r.body.stress.length, 11);
  });

  it('the dashboard sorts by specific volatility and the symbol route shows it', async () => {
    const rows = (
      await call(`/api/v1/data/symbols?sort_by=specific_vol&sort_order=desc&limit=5&date=${D}`, demoToken)
    ).body;
    const vols = rows.symbols.map((s: { specific_vol: number }) => s.specific_vol);
    assert.ok(vols.every((v: number) => v > 0));
    assert.deepEqual(
      vols,
      [...vols].sort((a, b) => b - a),
    );
    const one = (await call(`/api/v1/data/symbols/${rows.symbols[0].symbol}?date=${D}`, demoToken)).body;
    assert.equal(one.metrics.specific_vol, vols[0]);
  });
});

describe('batch runs', () => {
  it('lists runs; an admin enqueues one (202), the same date again answers 409 with its id, and the run shows every stage', async () => {
    const runs = (await call('/api/v1/batch/runs?limit=6', adminToken)).body.runs;
    assert.equal(runs.length, 1, 'the backfill of the set-up');
    assert.equal(runs[0].status, 'completed');
    assert.equal((await call('/api/v1/batch/runs?limit=6', demoToken)).status, 403);
    const denied = await call('/api/v1/batch/runs', otherToken, {
      method: 'POST',
      body: JSON.stringify({ date: D }),
    });
    assert.equal(denied.status, 403);
    const started = await call('/api/v1/batch/runs', adminToken, {
      method: 'POST',
      body: JSON.stringify({ date: D, force: true }),
    });
    assert.equal(started.status, 202);
    const again = await call('/api/v1/batch/runs', adminToken, {
      method: 'POST',
      body: JSON.stringify({ date: D }),
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.id, started.body.id);
    for (let i = 0; i < 400; i++) {
      const run = (await call(`/api/v1/batch/runs/${started.body.id}`, adminToken)).body;
      if (run.status === 'completed') {
        assert.deepEqual(run.days, [D]);
        assert.deepEqual([...new Set(run.stages.map((s: { stage: string }) => s.stage))].sort(), [
          'factor_betas',
          'legacy_positions',
          'market_data',
          'portfolios',
          'risk_model',
          'symbol_metrics',
          'universe',
        ]);
        for (const s of run.stages)
          for (const p of s.partitions)
            assert.deepEqual([p.state, p.attempts, p.error], ['completed', 1, null]);
        return;
      }
      assert.notEqual(run.status, 'failed', run.error);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the run did not finish');
  });
});
