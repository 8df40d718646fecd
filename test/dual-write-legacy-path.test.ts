import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadDemoMarket } from '../src/demo/load.ts';
import { bsDelta, normCdf } from '../src/math/black-scholes.ts';
import { runFactors } from '../src/factors/run.ts';
import { writeLegacyExposures } from '../src/legacy/position-exposures.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

describe('Black–Scholes delta', () => {
  it('normal CDF matches tabulated values', () => {
    assert.ok(Math.abs(normCdf(0) - 0.5) < 1e-15);
    assert.ok(Math.abs(normCdf(1.96) - 0.9750021048517795) < 1e-13);
    assert.ok(Math.abs(normCdf(-1) - 0.15865525393145707) < 1e-13);
  });

  it("Hull's example: S 49, K 50, r 5%, sigma 20%, 20 weeks → call delta 0.522", () => {
    const call = bsDelta({ call: true, spot: 49, strike: 50, years: 0.3846, rate: 0.05, vol: 0.2 });
    assert.ok(Math.abs(call - 0.522) < 5e-4, String(call));
  });

  it('put-call parity of deltas: call − put = 1 without dividends', () => {
    const o = { spot: 120, strike: 100, years: 0.5, rate: 0.045, vol: 0.3 };
    assert.ok(Math.abs(bsDelta({ ...o, call: true }) - bsDelta({ ...o, call: false }) - 1) < 1e-15);
  });
});

describe('dual-write: the legacy per-position path', () => {
  let t: TestDb;
  let date: string;
  before(async () => {
    t = await createTestDb();
    await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
    date = (await t.pool.query("SELECT max(date)::text AS d FROM market_data_cache WHERE symbol = 'SPY'"))
      .rows[0].d;
    await runFactors(t.db, t.pool, { date });
    const r = await writeLegacyExposures(t.pool, date);
    assert.ok(r.rows > 0);
  });
  after(async () => t.close());

  it('a stock position carries its own symbol betas, recomputed independently: equal to the universe table at 1e-8', async () => {
    const { rows } = await t.pool.query(`
      SELECT p.exposure_value, p.beta, s.beta AS symbol_beta FROM position_factor_exposures p
        JOIN symbol_factor_exposures s ON s.symbol = p.beta_symbol AND s.factor_id = p.factor_id AND s.calculation_date = p.calculation_date
       WHERE NOT p.is_option`);
    assert.ok(rows.length > 0);
    for (const r of rows) {
      assert.equal(r.exposure_value, r.beta);
      // the fixtures' rule: relative, or absolute below 1e-6
      const scale = Math.abs(r.symbol_beta) < 1e-6 ? 1 : Math.abs(r.symbol_beta);
      assert.ok(Math.abs(r.beta - r.symbol_beta) <= 1e-8 * scale, `${r.beta} vs ${r.symbol_beta}`);
    }
  });

  it("an option's row is delta × the underlying's beta; calls have delta in (0, 1), puts in (−1, 0)", async () => {
    const { rows } = await t.pool.query(`
      SELECT pos.position_type, p.delta, p.exposure_value, s.beta AS underlying_beta FROM position_factor_exposures p
        JOIN positions pos ON pos.id = p.position_id
        JOIN symbol_factor_exposures s ON s.symbol = p.beta_symbol AND s.factor_id = p.factor_id AND s.calculation_date = p.calculation_date
       WHERE p.is_option`);
    assert.equal(rows.length, 5 * 11, 'five live options, eleven factors each');
    for (const r of rows) {
      const call = r.position_type === 'LC' || r.position_type === 'SC';
      assert.ok(
        call ? r.delta > 0 && r.delta < 1 : r.delta < 0 && r.delta > -1,
        `${r.position_type} delta ${r.delta}`,
      );
      assert.ok(Math.abs(r.exposure_value - r.delta * r.underlying_beta) < 1e-12);
    }
  });

  it('an option expired on or before the date contributes nothing', async () => {
    const { rows } = await t.pool.query(
      `SELECT count(*)::int AS n FROM position_factor_exposures p JOIN positions pos ON pos.id = p.position_id
        WHERE pos.expiration_date <= $1`,
      [date],
    );
    assert.equal(rows[0].n, 0);
  });
});
