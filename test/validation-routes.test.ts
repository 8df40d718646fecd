import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/api/server.ts';
import { loadConfig } from '../src/config.ts';
import { createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

/**
 * The validation routes (METHODOLOGY.md 14) over a hand-made store of six trading days d0…d5, with
 * every forecast and outcome written directly so each answer can be worked out on paper:
 * - the six factor proxies all return 0.01, −0.04, 0.5, 0.09, −0.01 on d1…d5;
 * - risk models stored as of d0, d1, d3, d4, d5 (none as of d2) with every factor's σ_1d 0.01, 0.02,
 *   0.03, 0.01, 0.05 (Σ_jj = 252 σ_1d²): d3 is skipped; z = (1, −2, 3, −1), B = sqrt(14.75 / 3);
 * - symbol AAA: summed betas 1, 2, 1, 1, 1, 9 (one sixth on each factor), σ_s = 0.01 √252 as of every
 *   day but d2, returns 0.02, −0.09, 0, 0.10, −0.02 → e = ±0.01, z = (1, −1, 1, −1), B = sqrt(4/3);
 *   BBB has a specific vol as of d4 only (one usable day): not counted;
 * - portfolio P (user demo): total risk σ_1d √252 as of the same days as the models, parametric VaR 95%
 *   15 dollars; daily returns as the proxies' and P&L 1,000 × return → one exception (d2: 40 > 15).
 */

const D = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08', '2024-01-09'];
const FACTORS = ['Value', 'Growth', 'Momentum', 'Quality', 'Size', 'Low Volatility'];
const PROXIES = ['VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV'];
const RET = [NaN, 0.01, -0.04, 0.5, 0.09, -0.01];
const SIGMA: (number | null)[] = [0.01, 0.02, null, 0.03, 0.01, 0.05];

let t: TestDb;
let app: FastifyInstance;
let base: string;
let token: string;
let mine: number;
let theirs: number;

const closes = (first: number, returns: number[]) =>
  returns.reduce<number[]>((c, r, k) => [...c, k === 0 ? first : c[k - 1]! * (1 + r)], []);

async function call(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

const near = (a: number | null, b: number, tol = 1e-9) =>
  assert.ok(a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≠ ${b}`);

before(async () => {
  t = await createTestDb();
  const config = loadConfig({});
  const H = config.riskHalfLife;
  await createUser(t.db, { username: 'demo', password: 'demo-password' });
  await createUser(t.db, { username: 'other', password: 'other-password' });
  const ids = await t.pool.query<{ id: number }>(
    `INSERT INTO portfolios (owner_id, name, equity_balance)
     SELECT id, username || ' book', 1000 FROM users WHERE username IN ('demo', 'other') ORDER BY username RETURNING id`,
  );
  [mine, theirs] = ids.rows.map((r) => r.id) as [number, number];

  const price = (symbol: string, c: number[]) =>
    t.pool.query(
      'INSERT INTO market_data_cache (symbol, date, close) SELECT $1, d, c FROM unnest($2::date[], $3::float8[]) AS x(d, c)',
      [symbol, D, c],
    );
  await price('SPY', closes(400, [0, 0.001, 0.002, 0.003, 0.004, 0.005]));
  for (const p of PROXIES) await price(p, closes(100, RET));

  for (let k = 0; k < 6; k++) {
    const s = SIGMA[k];
    if (s === null || s === undefined) continue;
    const cov = Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 252 * s * s : 0));
    await t.pool.query(
      `INSERT INTO risk_models (calculation_date, half_life, window_days, factors, covariance, observations, proxies,
         proxy_covariance, proxy_observations) VALUES ($1, $2, 365, $3, $4, 100, $5, $6, 100)`,
      [D[k], H, FACTORS, cov, ['SPY', ...PROXIES], Array(49).fill(0)],
    );
    await t.pool.query(
      `INSERT INTO portfolio_risk (portfolio_id, calculation_date, risk_model_date, half_life, equity, total_risk,
         factor_risk, specific_risk, tracking_error, report, var, hedges)
       VALUES ($1, $2, $2, $3, 1000, $4, $4, 0, NULL, '{}', $5, '{}')`,
      [
        mine,
        D[k],
        H,
        s * Math.sqrt(252),
        JSON.stringify({
          parametric: { var_95: 15, es_95: 20, var_99: 25, es_99: 30 },
          historical: { var_95: 15, es_95: 20, var_99: 25, es_99: 30, days: 250 },
        }),
      ],
    );
  }
  // the symbols' stored forecasts and outcomes, one metrics row per symbol and day (§6: its factor
  // columns are the day's betas, specific_vol the day's specific volatility, return_1d the day's return)
  const beta = [1, 2, 1, 1, 1, 9];
  const vol = 0.01 * Math.sqrt(252);
  const aaa = [NaN, 0.02, -0.09, 0, 0.1, -0.02];
  const metric = (symbol: string, k: number, b: number, v: number | null, r: number) =>
    t.pool.query(
      `INSERT INTO symbol_daily_metrics (symbol, metric_date, return_1d, factor_value, factor_growth, factor_momentum,
         factor_quality, factor_size, factor_low_vol, specific_vol) VALUES ($1, $2, $3, $4, $4, $4, $4, $4, $4, $5)`,
      [symbol, D[k], Number.isNaN(r) ? null : r, b, v],
    );
  for (let k = 0; k < 6; k++) {
    await metric('AAA', k, beta[k]! / 6, k === 2 ? null : vol, aaa[k]!);
    await metric('BBB', k, 1, k === 4 ? 0.3 : null, 0.01);
  }
  await t.pool.query(
    `INSERT INTO portfolio_snapshots (portfolio_id, snapshot_date, equity, total_value, cash, long_exposure,
       short_exposure, gross_exposure, net_exposure, daily_pnl, daily_return, positions_count)
     SELECT $1, d, 1000, 1000, 0, 1000, 0, 1000, 1000, 1000 * r, r, 1 FROM unnest($2::date[], $3::float8[]) AS x(d, r)`,
    [mine, D, RET.map((r) => (Number.isNaN(r) ? null : r))],
  );

  app = await buildServer({
    db: t.db,
    pool: t.pool,
    config,
    secret: 'test-secret-of-enough-length-0123456789',
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  token = ((await login.json()) as { token: string }).token;
});

after(async () => {
  await app?.close();
  await t?.close();
});

describe('GET /api/v1/risk-model/validation', () => {
  it('six factors with bias and band over the six days, d3 skipped; the specific summary', async () => {
    const r = await call(`/api/v1/risk-model/validation?date=${D[5]}&window=20`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['as_of', 'factors', 'specific', 'window']);
    assert.equal(r.body.as_of, D[5]);
    assert.equal(r.body.window, 20);
    assert.deepEqual(
      r.body.factors.map((f: any) => f.factor),
      FACTORS,
    );
    for (const f of r.body.factors) {
      assert.deepEqual(Object.keys(f).sort(), [
        'band_high',
        'band_low',
        'bias',
        'factor',
        'n',
        'within_band',
      ]);
      assert.equal(f.n, 4);
      near(f.bias, Math.sqrt(14.75 / 3));
      near(f.band_low, 1 - Math.sqrt(0.5));
      near(f.band_high, 1 + Math.sqrt(0.5));
      assert.equal(f.within_band, false); // 2.217 > 1.707: risk under-forecast
    }
    assert.equal(r.body.specific.symbols, 1);
    near(r.body.specific.median_bias, Math.sqrt(4 / 3));
    assert.equal(r.body.specific.share_within_band, 1);
  });

  it('the date defaults to the newest forecast and the window to 250', async () => {
    const r = await call('/api/v1/risk-model/validation');
    assert.equal(r.status, 200);
    assert.equal(r.body.as_of, D[5]);
    assert.equal(r.body.window, 250);
    assert.equal(r.body.factors[0].n, 4);
  });

  it('a date before any forecast: n = 0 and nulls, not an error', async () => {
    const r = await call('/api/v1/risk-model/validation?date=2023-06-01');
    assert.equal(r.status, 200);
    for (const f of r.body.factors)
      assert.deepEqual(
        { n: f.n, bias: f.bias, band_low: f.band_low, band_high: f.band_high, within_band: f.within_band },
        { n: 0, bias: null, band_low: null, band_high: null, within_band: null },
      );
    assert.deepEqual(r.body.specific, { median_bias: null, share_within_band: null, symbols: 0 });
  });

  it('a bad window or date is a 400 naming the field', async () => {
    for (const q of ['window=19', 'window=2501', 'window=abc', 'window=25.5']) {
      const r = await call(`/api/v1/risk-model/validation?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body.message, /window/, q);
    }
    for (const q of ['date=yesterday', 'date=2024-1-5']) {
      const r = await call(`/api/v1/risk-model/validation?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body.message, /date/, q);
    }
  });

  it('the rolling bias: one entry per day, null until a full window', async () => {
    const r = await call(`/api/v1/risk-model/validation/rolling?date=${D[5]}&window=20&days=6`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.dates, D);
    assert.equal(r.body.factors.length, 6);
    assert.deepEqual(r.body.factors[0].bias, [null, null, null, null, null, null]);
  });
});

describe('GET /api/v1/portfolios/{id}/validation', () => {
  it('the bias and the four VaR backtests, exceptions listed', async () => {
    const r = await call(`/api/v1/portfolios/${mine}/validation?date=${D[5]}&window=20`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['as_of', 'bias', 'exceptions', 'var_backtests', 'window']);
    assert.equal(r.body.as_of, D[5]);
    assert.equal(r.body.bias.n, 4);
    near(r.body.bias.bias, Math.sqrt(14.75 / 3));
    assert.equal(r.body.bias.within_band, false);
    assert.deepEqual(
      r.body.var_backtests.map((b: any) => [b.method, b.confidence, b.n, b.exceptions]),
      [
        ['parametric', 0.95, 4, 1],
        ['parametric', 0.99, 4, 1],
        ['historical', 0.95, 4, 1],
        ['historical', 0.99, 4, 1],
      ],
    );
    const p = r.body.var_backtests[0];
    // n = 4, x = 1, p = 0.05: LR_uc = −2 [3 ln 0.95 + ln 0.05] + 2 [3 ln 0.75 + ln 0.25]
    near(p.lr_uc, -2 * (3 * Math.log(0.95) + Math.log(0.05)) + 2 * (3 * Math.log(0.75) + Math.log(0.25)));
    near(p.expected, 0.2);
    // hits 0 1 0 0: n00 1, n01 1, n10 1, n11 0 → π01 ½, π11 0, π ⅓
    // LR_ind = −2 [2 ln ⅔ + ln ⅓] + 2 [ln ½ + ln ½] = 3.819085010 − 2.772588722 = 1.046496288
    near(p.lr_ind, 1.046496288, 1e-8);
    near(p.lr_cc, p.lr_uc + p.lr_ind);
    near(p.p_cc, Math.exp(-p.lr_cc / 2));
    // F(1) for binomial(4, 0.05) = 0.95^4 + 4 × 0.05 × 0.95^3 = 0.985981 ≥ 0.95 → yellow
    assert.equal(p.zone, 'yellow');
    const { loss, ...first } = r.body.exceptions[0];
    assert.deepEqual(first, { date: D[2], method: 'parametric', confidence: 0.95, var: 15 });
    near(loss, 40);
    assert.equal(r.body.exceptions.length, 4);
  });

  it("another user's portfolio, or none, is a 404", async () => {
    assert.equal((await call(`/api/v1/portfolios/${theirs}/validation`)).status, 404);
    assert.equal((await call('/api/v1/portfolios/999999/validation')).status, 404);
    assert.equal((await call(`/api/v1/portfolios/${theirs}/validation/days`)).status, 404);
  });

  it('a date before any forecast: n = 0, nulls and no zone', async () => {
    const r = await call(`/api/v1/portfolios/${mine}/validation?date=2023-06-01`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.bias, { n: 0, bias: null, band_low: null, band_high: null, within_band: null });
    for (const b of r.body.var_backtests) {
      assert.equal(b.n, 0);
      for (const k of ['lr_uc', 'p_uc', 'lr_ind', 'p_ind', 'lr_cc', 'p_cc', 'zone'])
        assert.equal(b[k], null, k);
    }
    assert.deepEqual(r.body.exceptions, []);
  });

  it('a bad window is a 400 naming it', async () => {
    const r = await call(`/api/v1/portfolios/${mine}/validation?window=10`);
    assert.equal(r.status, 400);
    assert.match(r.body.message, /window/);
  });

  it('the backtest days: P&L of each day beside the VaR of the day before', async () => {
    const r = await call(`/api/v1/portfolios/${mine}/validation/days?date=${D[5]}&window=20`);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.days.map((d: any) => [d.date, d.pnl === null ? null : Math.round(d.pnl), d.var_parametric_95]),
      [
        [D[0], null, null],
        [D[1], 10, 15],
        [D[2], -40, 15],
        [D[3], 500, null],
        [D[4], 90, 15],
        [D[5], -10, 15],
      ],
    );
  });

  it('the OpenAPI document lists both routes with their schemas', async () => {
    const doc = (await (await fetch(`${base}/docs/json`)).json()) as any;
    const rm = doc.paths['/api/v1/risk-model/validation'].get;
    const pf = doc.paths['/api/v1/portfolios/{id}/validation'].get;
    const props = (op: any) =>
      Object.keys(op.responses['200'].content['application/json'].schema.properties).sort();
    assert.deepEqual(props(rm), ['as_of', 'factors', 'specific', 'window']);
    assert.deepEqual(props(pf), ['as_of', 'bias', 'exceptions', 'var_backtests', 'window']);
    assert.ok(
      rm.parameters.some(
        (p: any) => p.name === 'window' && p.schema.minimum === 20 && p.schema.maximum === 2500,
      ),
    );
  });
});

describe('factor-universe validate', () => {
  /** The built command line against this file's database; resolves with its exit code and output. */
  async function fu(args: string[]) {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [path.resolve('bin/factor-universe.js'), ...args],
        { env: { ...process.env, FU_DATA_DIR: scratchDir(), FU_DATABASE_URL: t.url } },
      );
      return { code: 0, stdout, stderr };
    } catch (e) {
      const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  }

  it('without a portfolio: the factor table with bias, band and verdict, and the specific summary', async () => {
    const r = await fu(['validate', '--date', D[5]!, '--window', '20']);
    assert.equal(r.code, 0, r.stderr);
    const value = r.stdout.split('\n').find((l) => l.startsWith('Value '))!;
    // n 4, skipped 2 (d0 has no prev, d3 no forecast), B = sqrt(14.75/3) = 2.217, band 0.293 – 1.707
    assert.match(value, /^Value\s+4\s+2\s+2\.217\s+0\.293 – 1\.707\s+OUT: risk under-forecast$/);
    assert.match(r.stdout, /specific risk: median bias 1\.155 over 1 symbols, 100\.0% inside their band/);
  });

  it('a portfolio by name: its bias and the backtests with the zone in words', async () => {
    const r = await fu(['validate', 'demo book', '--date', D[5]!, '--window', '20']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bias 2\.217 over n = 4 days \(2 skipped\)/);
    const p95 = r.stdout.split('\n').find((l) => l.startsWith('parametric 95%'))!;
    assert.match(
      p95,
      /^parametric 95%\s+4\s+1\s+0\.2\s.*yellow \(more exceptions than expected: look closer\)$/,
    );
    assert.match(r.stdout, new RegExp(`${D[2]}\\s+parametric 95%\\s+40\\s+15`));
  });

  it('a window outside 20–2,500 is a usage error naming --window', async () => {
    const r = await fu(['validate', '--window', '10']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--window must be a whole number of trading days from 20 to 2500, got "10"/);
  });
});
