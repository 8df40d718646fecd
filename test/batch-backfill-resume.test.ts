import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backfill } from '../src/batch/backfill.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

const cli = path.resolve('bin/factor-universe.js');
const FROM = '2026-10-15';
const TO = '2026-10-30'; // 12 trading days

/** Every table a date writes, as one fingerprint per table (timestamps left out). */
const TABLES: Record<string, string> = {
  symbol_factor_exposures: 'symbol, factor_id, calculation_date, beta, r_squared, observations, quality_flag',
  symbol_factor_skips: 'symbol, factor_id, calculation_date, reason, observations',
  symbol_daily_metrics:
    'symbol, metric_date, current_price, return_1d, return_ytd, factor_market_beta, data_quality_score',
  portfolio_snapshots: 'portfolio_id, snapshot_date, equity, daily_pnl, cumulative_pnl, net_exposure',
  factor_exposures: 'portfolio_id, factor_id, calculation_date, source, exposure_value, exposure_dollar',
  position_daily_values: 'position_id, value_date, market_value, exposure, delta, pnl, pnl_method',
  stress_test_results: 'portfolio_id, scenario, calculation_date, pnl, status',
  symbol_specific_risk: 'symbol, calculation_date, specific_vol, observations',
  risk_models: 'calculation_date, half_life, covariance, proxy_covariance',
  portfolio_risk: 'portfolio_id, calculation_date, total_risk, tracking_error, var, hedges',
  portfolio_attribution: 'portfolio_id, calculation_date, daily_pnl, factor_pnl, specific_pnl',
  position_factor_exposures: 'position_id, factor_id, calculation_date, exposure_value, delta',
};
async function fingerprint(t: TestDb): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, cols] of Object.entries(TABLES)) {
    const { rows } = await t.pool.query(
      `SELECT count(*)::int AS n, md5(string_agg(ROW(${cols})::text, '|' ORDER BY ROW(${cols})::text)) AS h FROM ${table}`,
    );
    out[table] = `${rows[0].n}:${rows[0].h}`;
  }
  return out;
}

describe('backfill: kill -9 and resume', () => {
  let reference: TestDb;
  let killed: TestDb;
  before(async () => {
    [reference, killed] = await Promise.all([createTestDb(), createTestDb()]);
    for (const t of [reference, killed])
      await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  });
  after(async () => {
    await Promise.all([reference.close(), killed.close()]);
  });

  it('completes the range with the same rows as an uninterrupted run: no duplicate, no missing, no half-written date', async () => {
    const reports = await backfill(
      reference.db,
      reference.pool,
      { ...loadConfig({}), dualWrite: true },
      { from: FROM, to: TO },
    );
    assert.equal(reports.length, 12);

    const start = () =>
      spawn(process.execPath, [cli, 'batch', 'backfill', '--from', FROM, '--to', TO], {
        env: { ...process.env, DATABASE_URL: killed.url, FU_DUAL_WRITE: 'true' },
        stdio: 'ignore',
      });
    const child = start();
    // kill -9 while it is inside the range: after some phase of the third date has started
    for (;;) {
      const { rows } = await killed.pool.query(
        "SELECT count(DISTINCT run_date)::int AS n FROM batch_runs WHERE status = 'running' OR status = 'completed'",
      );
      if (rows[0].n >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const partial = (
      await killed.pool.query(
        "SELECT count(*)::int AS n FROM batch_runs WHERE status = 'completed' AND phase = 'legacy_position_exposures'",
      )
    ).rows[0].n;
    assert.ok(partial < 12, 'killed before the end');

    const resumed = start();
    const code = await new Promise<number | null>((r) => resumed.on('exit', r));
    assert.equal(code, 0);
    const stale = (
      await killed.pool.query("SELECT count(*)::int AS n FROM batch_runs WHERE status = 'running'")
    ).rows[0].n;
    assert.equal(stale, 0, 'no phase left marked running');
    assert.deepEqual(await fingerprint(killed), await fingerprint(reference));
  });
});
