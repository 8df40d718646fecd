import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadDemoMarket } from '../src/demo/load.ts';
import { runFactors } from '../src/factors/run.ts';
import { writeLegacyExposures } from '../src/legacy/position-exposures.ts';
import { runMetrics } from '../src/metrics/run.ts';
import { runPortfolios } from '../src/portfolios/run.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';
import { insertCloses } from './helpers/prices.ts';

const D = '2026-10-30'; // the demo market's last day, a Friday
const P = '2026-10-29';

let t: TestDb;
const close = async (symbol: string, date: string): Promise<number> =>
  (await t.pool.query('SELECT close FROM market_data_cache WHERE symbol = $1 AND date = $2', [symbol, date]))
    .rows[0].close;

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  // a symbol listed on 2026-10-01: its month, quarter and year have no base close
  await insertCloses(t.pool, [
    { symbol: 'NEWCO', date: '2026-10-01', close: 10 },
    { symbol: 'NEWCO', date: '2026-10-29', close: 11 },
    { symbol: 'NEWCO', date: D, close: 12 },
  ]);
  for (const date of [P, D]) {
    await runFactors(t.db, t.pool, { date });
    await writeLegacyExposures(t.pool, date);
  }
});
after(async () => t.close());

describe('symbol daily metrics', () => {
  before(async () => {
    await runMetrics(t.db, t.pool, D);
  });

  it('returns from the bases of METHODOLOGY.md 6, found here by hand on the weekday calendar', async () => {
    const stock = (await t.pool.query('SELECT symbol FROM company_profiles ORDER BY symbol LIMIT 1')).rows[0]
      .symbol;
    const m = (
      await t.pool.query('SELECT * FROM symbol_daily_metrics WHERE symbol = $1 AND metric_date = $2', [
        stock,
        D,
      ])
    ).rows[0];
    const c = await close(stock, D);
    const ret = async (base: string) => c / (await close(stock, base)) - 1;
    assert.equal(m.current_price, c);
    assert.equal(m.return_1d, await ret('2026-10-29'));
    assert.equal(m.return_mtd, await ret('2026-09-30')); // last trading day of September
    assert.equal(m.return_ytd, await ret('2025-12-31')); // last trading day of 2025
    assert.equal(m.return_1m, await ret('2026-09-30')); // on or before 2026-09-30
    assert.equal(m.return_3m, await ret('2026-07-30'));
    assert.equal(m.return_1y, await ret('2025-10-30'));
    assert.equal(m.data_quality_score, 100, 'price, 6 returns, 5 valuation figures and 11 betas all present');
    const beta = (
      await t.pool.query(
        'SELECT beta FROM symbol_factor_exposures WHERE symbol = $1 AND factor_id = 11 AND calculation_date = $2',
        [stock, D],
      )
    ).rows[0].beta;
    assert.equal(m.factor_market_beta, beta);
    // realised volatility: sample sd of the daily returns of (D − 365, D], annualised by √252
    const { rows } = await t.pool.query(
      'SELECT close FROM market_data_cache WHERE symbol = $1 AND date > $2::date - 365 - 5 ORDER BY date',
      [stock, D],
    );
    const dates = (
      await t.pool.query(
        'SELECT date::text AS d FROM market_data_cache WHERE symbol = $1 AND date > $2::date - 365 - 5 ORDER BY date',
        [stock, D],
      )
    ).rows.map((r) => r.d);
    const inWindow = dates.map((d, i) => i > 0 && d > '2025-10-30');
    const rets = rows
      .map((r, i) => (i > 0 ? r.close / rows[i - 1].close - 1 : NaN))
      .filter((_, i) => inWindow[i]);
    const mean = rets.reduce((a, b) => a + b, 0) / rets.length;
    const sd = Math.sqrt(rets.reduce((a, b) => a + (b - mean) ** 2, 0) / (rets.length - 1));
    assert.ok(
      Math.abs(m.realized_vol - sd * Math.sqrt(252)) < 1e-12,
      `${m.realized_vol} vs ${sd * Math.sqrt(252)}`,
    );
  });

  it('a return whose base close does not exist is null, and lowers the quality score', async () => {
    const m = (
      await t.pool.query("SELECT * FROM symbol_daily_metrics WHERE symbol = 'NEWCO' AND metric_date = $1", [
        D,
      ])
    ).rows[0];
    assert.equal(m.return_1d, 12 / 11 - 1);
    assert.deepEqual(
      [m.return_mtd, m.return_ytd, m.return_1m, m.return_3m, m.return_1y],
      [null, null, null, null, null],
    );
    // present: price and 1d return; no profile, no betas (too young) → 2 of 23
    assert.equal(m.data_quality_score, (100 * 2) / 23);
  });

  it('an ETF without a company profile has no valuation: 18 of 23 columns', async () => {
    const m = (
      await t.pool.query(
        "SELECT data_quality_score, market_cap FROM symbol_daily_metrics WHERE symbol = 'SPY' AND metric_date = $1",
        [D],
      )
    ).rows[0];
    assert.deepEqual(m, { data_quality_score: (100 * 18) / 23, market_cap: null });
  });
});

describe('portfolios run', () => {
  before(async () => {
    await runPortfolios(t.db, t.pool, { date: P });
    await runPortfolios(t.db, t.pool, { date: D });
  });

  it('first day P&L 0; next day P&L = Σ quantity × price change, equity rolled forward', async () => {
    const pf = (
      await t.pool.query("SELECT id, equity_balance FROM portfolios WHERE name = 'Long/Short Equity'")
    ).rows[0];
    const snaps = (
      await t.pool.query(
        'SELECT snapshot_date::text AS d, daily_pnl, equity, cumulative_pnl FROM portfolio_snapshots WHERE portfolio_id = $1 ORDER BY 1',
        [pf.id],
      )
    ).rows;
    assert.deepEqual(snaps[0], { d: P, daily_pnl: 0, equity: pf.equity_balance, cumulative_pnl: 0 });
    const positions = (
      await t.pool.query('SELECT symbol, quantity FROM positions WHERE portfolio_id = $1', [pf.id])
    ).rows;
    let expected = 0;
    for (const p of positions)
      expected += p.quantity * ((await close(p.symbol, D)) - (await close(p.symbol, P)));
    assert.ok(Math.abs(snaps[1].daily_pnl - expected) < 1e-6, `${snaps[1].daily_pnl} vs ${expected}`);
    assert.ok(Math.abs(snaps[1].equity - (pf.equity_balance + expected)) < 1e-6);
  });

  it('stores 11 factor exposures per portfolio with the betas date, and the exposure is Σ weight × beta', async () => {
    const pf = (await t.pool.query("SELECT id FROM portfolios WHERE name = 'ETF Allocation'")).rows[0].id;
    const rows = (
      await t.pool.query(
        "SELECT factor_id, exposure_value, exposure_dollar, equity, betas_date::text AS b, positions_missing FROM factor_exposures WHERE portfolio_id = $1 AND calculation_date = $2 AND source = 'symbol' ORDER BY factor_id",
        [pf, D],
      )
    ).rows;
    assert.equal(rows.length, 11);
    assert.ok(rows.every((r) => r.b === D && r.positions_missing.length === 0));
    const market = rows.find((r) => r.factor_id === 11)!;
    const { rows: held } = await t.pool.query(
      `SELECT p.quantity, m.close, e.beta FROM positions p
         JOIN market_data_cache m ON m.symbol = p.symbol AND m.date = $2
         JOIN symbol_factor_exposures e ON e.symbol = p.symbol AND e.calculation_date = $2 AND e.factor_id = 11
        WHERE p.portfolio_id = $1`,
      [pf, D],
    );
    const expected = held.reduce((s, h) => s + (h.quantity * h.close * h.beta) / market.equity, 0);
    assert.ok(Math.abs(market.exposure_value - expected) < 1e-12);
    assert.ok(Math.abs(market.exposure_dollar - expected * market.equity) < 1e-6);
  });

  it('the options portfolio: Greeks stored for live options, the expired one contributes nothing', async () => {
    const pf = (await t.pool.query("SELECT id FROM portfolios WHERE name = 'Options Overlay'")).rows[0].id;
    const { rows } = await t.pool.query(
      `SELECT p.position_type, v.delta, v.gamma, v.vega, v.theta, v.volatility_source, v.pnl_method, v.exposure
         FROM position_daily_values v JOIN positions p ON p.id = v.position_id
        WHERE v.portfolio_id = $1 AND v.value_date = $2 AND p.expiration_date IS NOT NULL ORDER BY p.id`,
      [pf, D],
    );
    assert.equal(rows.length, 6);
    const expired = rows.filter((r) => r.pnl_method === 'expired');
    assert.equal(expired.length, 1);
    assert.deepEqual([expired[0].exposure, expired[0].delta], [0, null]);
    for (const r of rows.filter((x) => x.pnl_method !== 'expired')) {
      assert.ok(r.gamma > 0 && r.vega > 0, 'long or short, gamma and vega per unit are positive');
      assert.ok(['implied', 'realized'].includes(r.volatility_source));
      assert.equal(r.pnl_method, 'delta_approximation');
    }
  });

  it('stress: market −10% moves each factor by its regression on SPY in the stored 7×7 covariance (delta-gamma)', async () => {
    // Written plainly: with one shocked proxy, E[u | SPY = s] = Σ_(u,SPY) / Σ_(SPY,SPY) × s.
    const rm = (
      await t.pool.query('SELECT proxies, proxy_covariance FROM risk_models WHERE calculation_date = $1', [D])
    ).rows[0];
    const k = rm.proxies.length;
    const spy = rm.proxies.indexOf('SPY');
    const move = (p: string) =>
      (rm.proxy_covariance[rm.proxies.indexOf(p) * k + spy] / rm.proxy_covariance[spy * k + spy]) * -0.1;
    const factors = (
      await t.pool.query(
        "SELECT id, long_proxy FROM factor_definitions WHERE method = 'ridge_regression' ORDER BY display_order",
      )
    ).rows;
    const { rows } = await t.pool.query(
      `SELECT v.portfolio_id, coalesce(p.underlying_symbol, p.symbol) AS sym, v.exposure, v.gamma, v.price,
              p.quantity * p.multiplier AS size
         FROM position_daily_values v JOIN positions p ON p.id = v.position_id
        WHERE v.value_date = $1 AND v.pnl_method <> 'expired'`,
      [D],
    );
    const expected = new Map<number, number>();
    for (const r of rows) {
      const betas = (
        await t.pool.query(
          'SELECT factor_id, beta FROM symbol_factor_exposures WHERE symbol = $1 AND calculation_date = $2',
          [r.sym, D],
        )
      ).rows;
      if (r.exposure === null || betas.length === 0) continue;
      const R = factors.reduce(
        (acc: number, f: { id: number; long_proxy: string }) =>
          acc + betas.find((b) => b.factor_id === f.id)!.beta * move(f.long_proxy),
        0,
      );
      const g = r.gamma === null ? 0 : r.size * r.gamma * r.price ** 2;
      expected.set(r.portfolio_id, (expected.get(r.portfolio_id) ?? 0) + r.exposure * R + 0.5 * g * R * R);
    }
    const stored = (
      await t.pool.query(
        "SELECT portfolio_id, pnl, status FROM stress_test_results WHERE scenario = 'Market -10%' AND calculation_date = $1",
        [D],
      )
    ).rows;
    assert.equal(stored.length, 3);
    for (const r of stored) {
      assert.equal(r.status, 'applied');
      const e = expected.get(r.portfolio_id)!;
      assert.ok(Math.abs(r.pnl - e) <= 1e-9 * Math.max(1, Math.abs(e)), `${r.pnl} vs ${e}`);
    }
    const na = (
      await t.pool.query(
        "SELECT DISTINCT scenario, kind, reason FROM stress_test_results WHERE calculation_date = $1 AND status = 'not_applicable' ORDER BY scenario",
        [D],
      )
    ).rows;
    // the demo market starts in 2023: the three historical windows have no closes; TLT is no proxy
    assert.deepEqual(
      na.map((r) => r.scenario),
      ['2018 Q4 selloff', '2022 rate shock', 'COVID crash', 'Rates +100bp'],
    );
    assert.match(na.find((r) => r.scenario === 'Rates +100bp').reason, /TLT/);
  });

  it('risk, VaR and attribution are stored per portfolio; the attribution adds up to the daily P&L', async () => {
    const { rows } = await t.pool.query(
      `SELECT r.total_risk, r.factor_risk, r.specific_risk, r.report, r.var, a.daily_pnl, a.factor_pnl, a.specific_pnl, s.daily_pnl AS snap_pnl
         FROM portfolio_risk r JOIN portfolio_attribution a USING (portfolio_id, calculation_date)
         JOIN portfolio_snapshots s ON s.portfolio_id = r.portfolio_id AND s.snapshot_date = r.calculation_date
        WHERE r.calculation_date = $1`,
      [D],
    );
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.ok(Math.abs(r.total_risk ** 2 - r.factor_risk ** 2 - r.specific_risk ** 2) < 1e-12);
      const parts = [...r.report.factors, ...r.report.symbols].reduce(
        (s: number, c: { contribution: number }) => s + c.contribution,
        0,
      );
      assert.ok(Math.abs(parts - r.total_risk) < 1e-12);
      assert.equal(r.var.historical.days, 250);
      assert.ok(r.var.parametric.var_99 > r.var.parametric.var_95);
      assert.equal(r.daily_pnl, r.snap_pnl);
      const sum =
        Object.values(r.factor_pnl as Record<string, number>).reduce((s, v) => s + v, 0) + r.specific_pnl;
      assert.ok(Math.abs(sum - r.daily_pnl) <= 1e-9 * Math.max(1, Math.abs(r.daily_pnl)));
      assert.ok(
        Object.values(r.factor_pnl).some((v) => v !== 0),
        'exposures of the previous day exist',
      );
    }
  });

  it('the legacy read path gives the same exposures as the symbol path', async () => {
    await runPortfolios(t.db, t.pool, { date: D, readPath: 'position' });
    const { rows } = await t.pool.query(
      `SELECT s.exposure_value AS a, p.exposure_value AS b FROM factor_exposures s
         JOIN factor_exposures p USING (portfolio_id, factor_id, calculation_date)
        WHERE s.source = 'symbol' AND p.source = 'position' AND calculation_date = $1`,
      [D],
    );
    assert.equal(rows.length, 33);
    for (const r of rows) assert.ok(Math.abs(r.a - r.b) <= 1e-12 * Math.max(1, Math.abs(r.a)));
  });

  it('a failing portfolio batch rolls back alone and is reported; the other batches commit', async () => {
    const victim = (await t.pool.query("SELECT id FROM portfolios WHERE name = 'Options Overlay'")).rows[0]
      .id;
    const written = async () =>
      new Map(
        (
          await t.pool.query<{ portfolio_id: number; at: string }>(
            'SELECT portfolio_id, computed_at::text AS at FROM portfolio_snapshots WHERE snapshot_date = $1',
            [D],
          )
        ).rows.map((r) => [r.portfolio_id, r.at]),
      );
    const before = await written();
    const values = async () =>
      (
        await t.pool.query(
          'SELECT count(*)::int AS n, max(computed_at)::text AS at FROM position_daily_values WHERE portfolio_id = $1 AND value_date = $2',
          [victim, D],
        )
      ).rows[0];
    const victimValues = await values();
    assert.ok(victimValues.n > 0);
    await t.pool.query(`
      CREATE FUNCTION fail_for_victim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.portfolio_id = ${Number(victim)} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER fail_victim BEFORE INSERT ON portfolio_snapshots FOR EACH ROW EXECUTE FUNCTION fail_for_victim();`);
    try {
      const r = await runPortfolios(t.db, t.pool, { date: D, batchSize: 1, maxConcurrentBatches: 2 });
      assert.deepEqual(
        r.failures.map((f) => f.portfolioIds),
        [[victim]],
      );
      assert.match(r.failures[0]!.error, /injected failure/);
    } finally {
      await t.pool.query('DROP TRIGGER fail_victim ON portfolio_snapshots; DROP FUNCTION fail_for_victim()');
    }
    const after = await written();
    assert.equal(after.get(victim), before.get(victim), "the failed portfolio's snapshot is untouched");
    assert.deepEqual(
      await values(),
      victimValues,
      'its position values: deleted, then restored by the rollback',
    );
    for (const [id, at] of after)
      if (id !== victim) assert.notEqual(at, before.get(id), `portfolio ${id} rewritten`);
  });
});

describe('what-if from the command line', () => {
  it('prints positions, factor exposures and stress P&L for a hypothetical book', async () => {
    const stock = (await t.pool.query('SELECT symbol FROM company_profiles ORDER BY symbol LIMIT 1')).rows[0]
      .symbol;
    const file = writeLines(scratchDir(), 'book.csv', [
      'symbol,position_type,quantity,underlying_symbol,strike_price,expiration_date',
      `${stock},LONG,100,,,`,
      'SPY,SHORT,-10,,,',
      `,LC,2,${stock},50,2027-01-15`,
    ]);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.resolve('bin/factor-universe.js'), 'what-if', file, '--date', D, '--equity', '500000'],
      {
        env: { ...process.env, DATABASE_URL: t.url },
      },
    );
    assert.match(stdout, new RegExp(`What-if on ${D} \\(betas of ${D}\\), equity 500,000.00`));
    assert.match(stdout, /^Market Beta +-?\d/m);
    assert.match(stdout, /^Market -10% +shock +-?[\d,]+ +-?\d+\.\d\d%/m);
    assert.match(stdout, /^total risk +\d+\.\d\d% +[\d,]+$/m);
    const stored = (await t.pool.query('SELECT count(*)::int AS n FROM portfolios')).rows[0].n;
    assert.equal(stored, 3, 'nothing stored');
  });
});

describe('users create', () => {
  it('says whether the user it saved is an administrator', async () => {
    const run = (args: string[]) =>
      promisify(execFile)(
        process.execPath,
        [path.resolve('bin/factor-universe.js'), 'users', 'create', ...args],
        {
          env: { ...process.env, DATABASE_URL: t.url, FU_NEW_PASSWORD: 'a-long-enough-password-1' },
        },
      );
    assert.match((await run(['boss', '--admin'])).stdout, /User boss \(id \d+\) saved: an administrator\./);
    assert.match((await run(['clerk'])).stdout, /User clerk \(id \d+\) saved: not an administrator/);
    const admins = await t.pool.query(
      "SELECT username FROM users WHERE is_admin AND username IN ('boss', 'clerk')",
    );
    assert.deepEqual(
      admins.rows.map((r) => r.username),
      ['boss'],
    );
  });
});

describe('what-if with bad lines', () => {
  it('reports every bad line at once (a bad type, a bad number, an unknown symbol) and says nothing was computed', async () => {
    const stock = (await t.pool.query('SELECT symbol FROM company_profiles ORDER BY symbol LIMIT 1')).rows[0]
      .symbol;
    const file = writeLines(scratchDir(), 'bad-book.csv', [
      'symbol,position_type,quantity',
      `${stock},LONG,100`,
      `${stock},LOGN,100`, // line 3: unknown type
      'SPY,LONG,ten', // line 4: not a number
      'NOSUCHCO,LONG,5', // line 5: not in the universe
    ]);
    const r = await promisify(execFile)(
      process.execPath,
      [path.resolve('bin/factor-universe.js'), 'what-if', file, '--date', D],
      { env: { ...process.env, DATABASE_URL: t.url } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-book\.csv: rejected, nothing computed/);
    assert.doesNotMatch(r.stderr, /nothing imported/);
    for (const line of [3, 4, 5])
      assert.match(r.stderr, new RegExp(`bad-book\\.csv:${line}: `), `line ${line}`);
    assert.match(r.stderr, /unknown symbol NOSUCHCO/);
  });
});

describe('risk report from the command line', () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, [path.resolve('bin/factor-universe.js'), 'risk', ...args], {
      env: { ...process.env, DATABASE_URL: t.url },
    });

  it("prints a portfolio's stored risk, VaR, stress tests, attribution and hedges", async () => {
    const stored = (
      await t.pool.query(
        "SELECT r.total_risk, r.equity FROM portfolio_risk r JOIN portfolios p ON p.id = r.portfolio_id WHERE p.name = 'Long/Short Equity' AND r.calculation_date = $1",
        [D],
      )
    ).rows[0];
    const { stdout } = await cli('Long/Short Equity', '--date', D);
    assert.match(stdout, new RegExp(`^Risk of Long/Short Equity on ${D}`, 'm'));
    const pctText = `${(stored.total_risk * 100).toFixed(2)}%`;
    const dollars = Math.round(stored.total_risk * stored.equity).toLocaleString('en-US');
    assert.match(stdout, new RegExp(`^total risk +${pctText.replace('.', '\\.')} +${dollars}$`, 'm'));
    assert.match(stdout, /^parametric +[\d,]+ +[\d,]+ +[\d,]+ +[\d,]+$/m);
    assert.match(stdout, /^historical \(250 days\)/m);
    assert.match(stdout, /^Rates \+100bp +shock +n\/a$/m);
    assert.match(stdout, /^ {2}n\/a Rates \+100bp: it shocks only TLT/m);
    assert.match(stdout, /^market hedge alone: SPY/m);
  });

  it('refuses a bad date (usage, exit 2) and an unknown portfolio (exit 1)', async () => {
    await assert.rejects(
      cli('Long/Short Equity', '--date', '2026-13-01'),
      (e: { code: number; stderr: string }) => {
        return e.code === 2 && /--date must be a date/.test(e.stderr);
      },
    );
    await assert.rejects(cli('No such book', '--date', D), (e: { code: number; stderr: string }) => {
      return e.code === 1 && /no portfolio "No such book"/.test(e.stderr);
    });
  });
});
