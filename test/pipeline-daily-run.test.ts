import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { PipelineEngine, validateStages } from '../src/pipeline/engine.ts';
import { STAGES, type Stage } from '../src/pipeline/stages.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { waitForRun } from '../src/pipeline/progress.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

const D = '2026-10-30';
const config = { ...loadConfig({}), dualWrite: true };

let t: TestDb;
before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
});
after(async () => t.close());

describe('a daily run on the job engine', () => {
  // this engine works the queue for this describe only: later tests bring engines of their own
  let engine: PipelineEngine;
  before(async () => {
    engine = await PipelineEngine.open(t, config, { log: () => undefined });
    engine.work(2);
  });
  after(async () => engine.stop());

  it('runs every stage of the date and stores its rows', async () => {
    const id = await engine.createRun({ from: D, to: D, kind: 'run' });
    const done = await waitForRun(t.pool, id, () => undefined, { intervalMs: 50 });
    assert.equal(done.status, 'completed', String(done.error));
    const stages = Object.fromEntries(done.stages.map((s) => [s.stage, s.completed]));
    assert.deepEqual(Object.keys(stages).sort(), [
      'factor_betas',
      'legacy_positions',
      'market_data',
      'portfolios',
      'risk_model',
      'symbol_metrics',
      'universe',
    ]);
    const { rows } = await t.pool.query(
      `SELECT (SELECT count(DISTINCT symbol) FROM symbol_factor_exposures WHERE calculation_date = $1)::int AS betas,
              (SELECT count(*) FROM symbol_daily_metrics WHERE metric_date = $1 AND factor_market_beta IS NOT NULL)::int AS metrics,
              (SELECT count(*) FROM portfolio_snapshots WHERE snapshot_date = $1)::int AS snapshots`,
      [D],
    );
    assert.ok(rows[0].betas >= 40, JSON.stringify(rows[0]));
    assert.equal(rows[0].metrics, rows[0].betas);
    assert.equal(rows[0].snapshots, 3);
  });
});

describe('a run whose prices arrive with the market data stage', () => {
  it("stores day D's betas, and D's metrics carry them, when D's prices come from the configured source", async () => {
    const u = await createTestDb();
    const dir = scratchDir();
    try {
      await loadDemoMarket(u.db, u.pool, dir, 'demo-password', { stocks: 40 });
      // Take day D out of the store and put it in a prices file: the store ends at D−1.
      const { rows } = await u.pool.query<{ symbol: string; close: number }>(
        'DELETE FROM market_data_cache WHERE date = $1 RETURNING symbol, close',
        [D],
      );
      assert.ok(rows.length > 40);
      const file = `${dir}/day.csv`;
      writeFileSync(
        file,
        ['symbol,date,close', ...rows.map((r) => `${r.symbol},${D},${r.close}`)].join('\n') + '\n',
      );
      const e = await PipelineEngine.open(
        u,
        { ...config, marketDataPath: file, dualWrite: false },
        { log: () => undefined },
      );
      e.work(1);
      try {
        const id = await e.createRun({ from: D, to: D, kind: 'run' });
        const done = await waitForRun(u.pool, id, () => undefined, { intervalMs: 50 });
        assert.equal(done.status, 'completed', String(done.error));
      } finally {
        await e.stop();
      }
      const betas = await u.pool.query(
        'SELECT count(DISTINCT symbol)::int AS n FROM symbol_factor_exposures WHERE calculation_date = $1',
        [D],
      );
      assert.ok(betas.rows[0].n >= 40, `betas of ${D}: ${betas.rows[0].n}`);
      const metrics = await u.pool.query(
        `SELECT count(*)::int AS n, count(factor_value)::int AS with_betas FROM symbol_daily_metrics m
          WHERE metric_date = $1 AND EXISTS (SELECT 1 FROM symbol_factor_exposures e WHERE e.symbol = m.symbol AND e.calculation_date = $1)`,
        [D],
      );
      assert.equal(metrics.rows[0].with_betas, metrics.rows[0].n);
      assert.equal(metrics.rows[0].n, betas.rows[0].n);
    } finally {
      await u.close();
    }
  });
});

describe('a stage that keeps failing', () => {
  // A database of its own: the engine the file's before() started works the shared queue with the
  // real stages, and would run this run's jobs itself (it does when this test runs alone).
  let own: TestDb;
  before(async () => {
    own = await createTestDb();
    await loadDemoMarket(own.db, own.pool, scratchDir(), 'demo-password', { stocks: 40 });
  });
  after(async () => own.close());

  it('is retried, then marks the run failed with its error; the stages that do not depend on it complete', async () => {
    let attempts = 0;
    const broken: Stage = {
      ...STAGES.find((s) => s.name === 'factor_betas')!,
      run: async () => {
        attempts++;
        throw new Error('price source unreachable');
      },
    };
    const stages = STAGES.map((s) => (s.name === broken.name ? broken : s));
    const done = await runPipeline(
      own,
      config,
      { from: D, to: D, kind: 'run' },
      { stages, retry: { limit: 1, delaySeconds: 1 } },
    );
    assert.equal(done.status, 'failed');
    assert.match(String(done.error), /factor_betas 2026-10-30: price source unreachable/);
    assert.equal(attempts, 2, 'the first attempt and one retry');
    const byStage = Object.fromEntries(done.stages.map((s) => [s.stage, [s.completed, s.failed]]));
    assert.deepEqual(byStage, {
      market_data: [1, 0],
      universe: [1, 0],
      factor_betas: [0, 1],
      legacy_positions: [1, 0], // does not depend on the betas
    });
    const jobs = await own.pool.query(
      "SELECT state, attempts, error FROM batch_jobs WHERE run_id = $1 AND stage = 'factor_betas'",
      [done.runId],
    );
    assert.deepEqual(jobs.rows, [{ state: 'failed', attempts: 2, error: 'price source unreachable' }]);
  });
});

describe('stage declarations', () => {
  it('are refused when a stage comes after one not declared before it, or a run stage after a block stage', () => {
    const [market, universe, betas] = STAGES as [Stage, Stage, Stage];
    assert.throws(
      () => validateStages([universe, market]),
      /universe comes after market_data, which is not declared/,
    );
    assert.throws(
      () => validateStages([market, universe, betas, { ...market, name: 'late', after: ['factor_betas'] }]),
      /run stage late cannot come after block stage factor_betas/,
    );
    assert.throws(() => validateStages([market, market]), /declared twice/);
    assert.doesNotThrow(() => validateStages(STAGES));
  });
});

describe('the daily schedule', () => {
  it('is stored as pg-boss cron from FU_SCHEDULE and FU_SCHEDULE_TZ, and removed when FU_SCHEDULE is unset', async () => {
    const scheduled = { ...config, schedule: '30 22 * * 1-5', scheduleTimeZone: 'America/New_York' };
    const a = await PipelineEngine.open(t, scheduled, { log: () => undefined, schedule: true });
    await a.stop();
    const rows = async () =>
      (
        await t.pool.query(
          "SELECT cron, options->>'tz' AS tz FROM pgboss.schedule WHERE name = 'pipeline-schedule'",
        )
      ).rows;
    assert.deepEqual(await rows(), [{ cron: '30 22 * * 1-5', tz: 'America/New_York' }]);
    const b = await PipelineEngine.open(t, config, { log: () => undefined, schedule: true });
    await b.stop();
    assert.deepEqual(await rows(), []);
  });
});

describe('a job that runs longer than the expiry', () => {
  it('is kept alive by its worker: it runs once and completes on its first attempt, not retried as lost', async () => {
    const real = STAGES.find((s) => s.name === 'factor_betas')!;
    let runs = 0;
    const slow: Stage = {
      ...real,
      run: async (job) => {
        runs++;
        await new Promise((r) => setTimeout(r, 12_000)); // six times the expiry below
        return real.run(job);
      },
    };
    const stages = STAGES.map((s) => (s.name === slow.name ? slow : s));
    const done = await runPipeline(
      t,
      { ...config, jobExpireSeconds: 2, dualWrite: false },
      { from: D, to: D, kind: 'run', force: true },
      { stages, concurrency: 2 }, // a second loop free to take the job again, were it taken as lost
    );
    assert.equal(done.status, 'completed', String(done.error));
    assert.equal(runs, 1, 'executed once');
    const jobs = await t.pool.query(
      "SELECT attempts FROM batch_jobs WHERE run_id = $1 AND stage = 'factor_betas'",
      [done.runId],
    );
    assert.deepEqual(jobs.rows, [{ attempts: 1 }]);
  });
});

describe('betas deleted while their specific vols stay (a price revision deletes betas)', () => {
  it('are computed again by the next run, which replaces the specific vols instead of conflicting with them', async () => {
    const first = await runPipeline(t, { ...config, dualWrite: false }, { from: D, to: D, kind: 'run' });
    assert.equal(first.status, 'completed', String(first.error));
    const kept = await t.pool.query(
      'SELECT count(*)::int AS n FROM symbol_specific_risk WHERE calculation_date = $1',
      [D],
    );
    assert.ok(kept.rows[0].n > 0);
    await t.pool.query('DELETE FROM symbol_factor_exposures WHERE calculation_date = $1', [D]);
    const again = await runPipeline(t, { ...config, dualWrite: false }, { from: D, to: D, kind: 'run' });
    assert.equal(again.status, 'completed', String(again.error));
    const { rows } = await t.pool.query(
      `SELECT (SELECT count(DISTINCT symbol) FROM symbol_factor_exposures WHERE calculation_date = $1)::int AS betas,
              (SELECT count(*) FROM symbol_specific_risk WHERE calculation_date = $1)::int AS specific`,
      [D],
    );
    assert.ok(rows[0].betas > 0);
    assert.equal(rows[0].specific, kept.rows[0].n);
  });
});
