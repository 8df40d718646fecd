import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateDemoMarket, RIDGE_PROXIES } from '../src/demo/market.ts';
import { computeBetas } from '../src/factors/engine.ts';
import { DEFAULT_SETTINGS, type FactorModel } from '../src/factors/model.ts';
import { returnsFromCloses } from '../src/factors/panel.ts';
import { loadModel } from '../src/factors/model.ts';
import { runFactors } from '../src/factors/run.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { insertCloses } from './helpers/prices.ts';

/** Inverse of a small symmetric matrix by Gauss–Jordan: the test's own, independent of the engine. */
function inverse(a: number[][]): number[][] {
  const k = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: k }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < k; c++) {
    const p = m[c]![c]!;
    m[c] = m[c]!.map((v) => v / p);
    for (let r = 0; r < k; r++) if (r !== c) m[r] = m[r]!.map((v, j) => v - m[r]![c]! * m[c]![j]!);
  }
  return m.map((row) => row.slice(k));
}

describe('the engine recovers the betas planted in the demo market', () => {
  const market = generateDemoMarket({ stocks: 120 });
  const T = market.dates.length;
  const closes = new Float64Array(market.symbols.length * T);
  market.closes.forEach((c, s) => closes.set(c, s * T));
  const panel = returnsFromCloses(market.dates, market.symbols, closes);

  it('ridge with alpha 0 (plain OLS) lands within 5 standard errors of every planted beta', async () => {
    const t = await createTestDb();
    const model: FactorModel = {
      ...(await loadModel(t.db)),
      settings: { ...DEFAULT_SETTINGS, ridgeAlpha: 0 },
    };
    await t.close();
    const stocks = market.stocks.map((s) => market.symbols.indexOf(s.symbol));
    const out = computeBetas(panel, model, T - 1, stocks);

    // Standard errors from the design of the window: se_j = sigma · sqrt([(XcᵀXc)⁻¹]_jj),
    // sigma being the idiosyncratic volatility planted in the stock.
    const days = out.results[0]!.observations;
    const proxies = RIDGE_PROXIES.map((p) =>
      panel.returns.subarray(market.symbols.indexOf(p) * T + T - days, market.symbols.indexOf(p) * T + T),
    );
    const means = proxies.map((x) => x.reduce((s, v) => s + v, 0) / days);
    const xtx = proxies.map((xi, i) =>
      proxies.map((xj, j) => xi.reduce((s, v, t) => s + (v - means[i]!) * (xj[t]! - means[j]!), 0)),
    );
    const inv = inverse(xtx);
    let worst = 0;
    for (const stock of market.stocks) {
      RIDGE_PROXIES.forEach((_, j) => {
        const r = out.results.find((x) => x.symbol === stock.symbol && x.factorId === j + 1)!;
        const se = stock.idioVol * Math.sqrt(inv[j]![j]!);
        const z = Math.abs(r.beta - stock.betas[j]!) / se;
        worst = Math.max(worst, z);
      });
    }
    assert.ok(worst < 5, `largest error ${worst.toFixed(2)} standard errors`);
    assert.ok(
      worst > 1.5,
      'errors of 720 estimates should reach a couple of standard errors; smaller means the noise was not seen',
    );
  });

  it('with the default alpha 1 the market beta matches the exposure implied by the planted betas', async () => {
    const t = await createTestDb();
    const model = await loadModel(t.db);
    await t.close();
    const out = computeBetas(
      panel,
      model,
      T - 1,
      market.stocks.map((s) => market.symbols.indexOf(s.symbol)),
    );
    const spy = panel.returns.subarray(0, T); // SPY is the first symbol of the demo market
    // implied market beta of a stock = Σ_j beta_j · cov(proxy_j, SPY) / var(SPY), over the same window
    const n = out.results.find((r) => r.factorId === 11)!.observations;
    const window = (x: Float64Array) => x.subarray(T - n, T);
    const cov = (a: Float64Array, b: Float64Array) => {
      const ma = a.reduce((s, v) => s + v, 0) / n;
      const mb = b.reduce((s, v) => s + v, 0) / n;
      return a.reduce((s, v, i) => s + (v - ma) * (b[i]! - mb), 0) / n;
    };
    const varSpy = cov(window(spy), window(spy));
    const proxyBetas = RIDGE_PROXIES.map(
      (p) =>
        cov(
          window(panel.returns.subarray(market.symbols.indexOf(p) * T, (market.symbols.indexOf(p) + 1) * T)),
          window(spy),
        ) / varSpy,
    );
    for (const stock of market.stocks) {
      const implied = stock.betas.reduce((s, b, j) => s + b * proxyBetas[j]!, 0);
      const got = out.results.find((r) => r.symbol === stock.symbol && r.factorId === 11)!.beta;
      // se of a market beta: idio vol / (sd(SPY) · sqrt(n)) ≈ 0.015 / (0.01 · 16) ≈ 0.1; 5 se
      const se = stock.idioVol / Math.sqrt(varSpy * n);
      assert.ok(
        Math.abs(got - implied) < 5 * se,
        `${stock.symbol}: market beta ${got} vs implied ${implied} (se ${se})`,
      );
    }
  });
});

describe('degenerate input gives a recorded outcome, never NaN or Infinity', () => {
  let t: TestDb;
  const market = generateDemoMarket({ stocks: 40, days: 300 });
  const D = market.dates.at(-1)!;
  const rowsOf = (symbol: string, from = 0) =>
    market.dates
      .slice(from)
      .map((date, i) => ({ symbol, date, close: market.closes[market.symbols.indexOf(symbol)]![from + i]! }));

  before(async () => {
    t = await createTestDb();
    const proxies = ['SPY', 'VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV'];
    // VTV has no close on D; of the stocks only three series are stored, each with its own defect
    const rows = proxies.flatMap((p) => rowsOf(p)).filter((r) => !(r.symbol === 'VTV' && r.date === D));
    const [a, b] = market.stocks.map((s) => s.symbol);
    rows.push(...rowsOf(a!, market.dates.length - 21).map((r) => ({ ...r, symbol: 'YOUNG' }))); // 20 returns only
    rows.push(...rowsOf(a!).map((r) => ({ ...r, symbol: 'FLAT', close: 10 })));
    rows.push(...rowsOf(b!));
    await insertCloses(t.pool, rows);
    // Computed here, not in the first test, so that each test also passes when run alone.
    const r = await runFactors(t.db, t.pool, { date: D });
    assert.equal(r.failures.length, 0);
  });
  after(async () => t.close());

  it('too few observations: skips recorded with their counts, no betas', async () => {
    const skips = await t.pool.query(
      "SELECT factor_id, reason, observations FROM symbol_factor_skips WHERE symbol = 'YOUNG' ORDER BY factor_id",
    );
    assert.equal(skips.rowCount, 11);
    assert.ok(skips.rows.every((s) => s.reason === 'insufficient_observations'));
    // 20 returns; the models that need VTV lose D, where VTV has no close
    assert.deepEqual(
      skips.rows.map((s) => s.observations),
      [19, 19, 19, 19, 19, 19, 19, 20, 20, 20, 20],
    );
    assert.equal(
      (await t.pool.query("SELECT 1 FROM symbol_factor_exposures WHERE symbol = 'YOUNG'")).rowCount,
      0,
    );
  });

  it('a flat price series: betas 0 and R² null', async () => {
    const { rows } = await t.pool.query(
      "SELECT beta, r_squared FROM symbol_factor_exposures WHERE symbol = 'FLAT'",
    );
    assert.equal(rows.length, 11);
    assert.ok(rows.every((r) => r.beta === 0 && r.r_squared === null));
  });

  it('a proxy missing on the date: the day leaves the ridge sample, the market fit keeps it', async () => {
    const { rows } = await t.pool.query(
      `SELECT f.method, e.observations FROM symbol_factor_exposures e JOIN factor_definitions f ON f.id = e.factor_id
        WHERE e.symbol = $1 AND f.name IN ('Value', 'Market Beta') ORDER BY f.id`,
      [market.stocks[1]!.symbol],
    );
    const vtv = await t.pool.query(
      "SELECT count(*)::int AS n FROM market_data_cache WHERE symbol = 'VTV' AND date = $1",
      [D],
    );
    assert.equal(vtv.rows[0].n, 0);
    assert.deepEqual(
      rows.map((r) => r.observations),
      [260, 261],
    );
  });

  it('a symbol that is itself a proxy: SPY has market beta 1 with R² 1', async () => {
    const { rows } = await t.pool.query(
      "SELECT beta, r_squared FROM symbol_factor_exposures WHERE symbol = 'SPY' AND factor_id = 11",
    );
    assert.ok(Math.abs(rows[0].beta - 1) < 1e-12 && Math.abs(rows[0].r_squared - 1) < 1e-12);
  });

  it('a proxy with no prices at all: its factors are recorded as missing_proxy for everyone', async () => {
    await t.pool.query("DELETE FROM market_data_cache WHERE symbol = 'MTUM'");
    await runFactors(t.db, t.pool, { date: D, force: true });
    const { rows } = await t.pool.query(
      `SELECT DISTINCT f.name FROM symbol_factor_skips k JOIN factor_definitions f ON f.id = k.factor_id
        WHERE k.reason = 'missing_proxy' ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => r.name),
      ['Growth', 'Low Volatility', 'Momentum', 'Momentum Spread', 'Quality', 'Size', 'Value'],
    );
    const nonFinite = await t.pool.query(
      "SELECT count(*)::int AS n FROM symbol_factor_exposures WHERE beta IN ('NaN', 'Infinity', '-Infinity') OR r_squared = 'NaN'",
    );
    assert.equal(nonFinite.rows[0].n, 0);
  });
});

describe('factors run: batches', () => {
  let t: TestDb;
  const market = generateDemoMarket({ stocks: 40, days: 300 });
  const D = market.dates.at(-1)!;
  before(async () => {
    t = await createTestDb();
    await insertCloses(
      t.pool,
      market.symbols.flatMap((symbol, s) =>
        market.dates.map((date, i) => ({ symbol, date, close: market.closes[s]![i]! })),
      ),
    );
  });
  after(async () => t.close());

  it('a failing batch rolls back alone and is reported with its symbols; the others commit', async () => {
    const victim = market.stocks[7]!.symbol;
    await t.pool.query(`
      CREATE FUNCTION fail_for_victim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.symbol = '${victim}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER fail_victim BEFORE INSERT ON symbol_day_factors FOR EACH ROW EXECUTE FUNCTION fail_for_victim();`);
    const r = await runFactors(t.db, t.pool, { date: D, batchSize: 5, maxConcurrentBatches: 3 });
    assert.equal(r.symbols, 48);
    assert.equal(r.batches, 10);
    assert.equal(r.failures.length, 1);
    assert.ok(r.failures[0]!.symbols.includes(victim));
    assert.match(r.failures[0]!.error, /injected failure/);
    const stored = await t.pool.query<{ symbol: string }>(
      'SELECT DISTINCT symbol FROM symbol_factor_exposures',
    );
    const storedSet = new Set(stored.rows.map((x) => x.symbol));
    for (const s of r.failures[0]!.symbols)
      assert.ok(!storedSet.has(s), `${s} of the failed batch is not stored`);
    assert.equal(storedSet.size, 48 - r.failures[0]!.symbols.length);

    await t.pool.query('DROP TRIGGER fail_victim ON symbol_day_factors');
    const rerun = await runFactors(t.db, t.pool, { date: D });
    assert.deepEqual(
      [rerun.symbols, rerun.failures.length],
      [r.failures[0]!.symbols.length, 0],
      'a rerun computes only the missing symbols',
    );
  });
});
