import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { loadModel } from '../src/factors/model.ts';
import { tradingDays } from '../src/market/closes.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { runPortfolios } from '../src/portfolios/run.ts';
import { riskSettings } from '../src/risk/report.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

/**
 * The portfolio stage of a backfill reads the 250-day returns and the scenario windows' closes once
 * per block of days (BlockPanels), computes the block's days in order carrying each day's snapshots
 * in memory to the next, and writes the whole block at once; the rows it stores must be exactly
 * those of the day-by-day path, where each day reads its own panel and yesterday's stored snapshot. The backfill runs over blocks of several days and two
 * shards of portfolios; then `runPortfolios` without a block panel recomputes every day in order
 * (each day's equity rolling from the previous day's snapshot, as in the stage) and overwrites the
 * rows; every stored row, compared as text (floats in their shortest exact form), is the same.
 */
const FROM = '2026-10-16';
const TO = '2026-10-30';
const config = { ...loadConfig({}), dualWrite: false, blockDays: 5, portfolioShardSize: 2 };
/**
 * The rows of a portfolio day (table, date column): position values, exposures and snapshots (the
 * equity each next day rolls forward from), risk, stress, attribution, active numbers, limit checks.
 */
const TABLES = [
  ['position_daily_values', 'value_date'],
  ['factor_exposures', 'calculation_date'],
  ['portfolio_snapshots', 'snapshot_date'],
  ['portfolio_risk', 'calculation_date'],
  ['stress_test_results', 'calculation_date'],
  ['portfolio_attribution', 'calculation_date'],
  ['portfolio_active_days', 'calculation_date'],
  ['portfolio_limit_breaches', 'breach_date'],
] as const;
let t: TestDb;

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
});
after(async () => t?.close());

/** Every row of the tables in the range, as text without the time it was written, in a fixed order. */
async function storedRows(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, date] of TABLES) {
    const { rows } = await t.pool.query<{ r: string }>(
      `SELECT (to_jsonb(x) - 'computed_at' - 'created_at' - 'checked_at')::text AS r FROM ${table} x
        WHERE ${date} BETWEEN $1 AND $2 ORDER BY 1`,
      [FROM, TO],
    );
    out[table] = rows.map((r) => r.r);
  }
  return out;
}

describe("the portfolio stage's blocks", () => {
  it('store the same rows as running each day on its own', async () => {
    const done = await runPipeline(t, config, { from: FROM, to: TO, kind: 'backfill' });
    assert.equal(done.status, 'completed', String(done.error));
    const days = await tradingDays(t.pool, 'SPY', FROM, TO);
    assert.ok(days.length > config.blockDays, `more than one block: ${days.length} days`);
    const jobs = await t.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM batch_jobs WHERE run_id = $1 AND stage = 'portfolios'",
      [done.runId],
    );
    assert.ok(jobs.rows[0]!.n >= 4, `blocks × shards: ${jobs.rows[0]!.n} jobs`);
    const byBlock = await storedRows();
    assert.ok(byBlock.portfolio_risk!.length >= 3 * days.length, 'a report per portfolio and day');
    assert.ok(byBlock.stress_test_results!.length > 0 && byBlock.portfolio_attribution!.length > 0);
    assert.equal(
      byBlock.portfolio_snapshots!.length,
      byBlock.portfolio_risk!.length,
      'a snapshot per report',
    );
    assert.ok(byBlock.position_daily_values!.length > byBlock.portfolio_snapshots!.length);

    const model = await loadModel(t.db);
    const risk = riskSettings(config);
    for (const date of days) {
      const r = await runPortfolios(t.db, t.pool, { date, model, readPath: config.readPath, risk });
      assert.deepEqual(r.failures, [], date);
    }
    const byDay = await storedRows();
    for (const [table] of TABLES) {
      const a = byBlock[table]!;
      const b = byDay[table]!;
      assert.equal(a.length, b.length, `${table}: rows`);
      // the first differing rows, cut short: a whole report is a few kilobytes
      const differing = a.flatMap((x, i) =>
        x === b[i] ? [] : [`${x.slice(0, 400)} vs ${b[i]!.slice(0, 400)}`],
      );
      assert.deepEqual(differing.slice(0, 2), [], table);
    }
  });
});
