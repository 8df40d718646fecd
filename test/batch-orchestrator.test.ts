import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { compareDualWrite } from '../src/batch/compare.ts';
import { DAILY_PHASES, type Phase } from '../src/batch/phases.ts';
import { DateLockedError, runDate } from '../src/batch/runner.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

const run = promisify(execFile);
const cli = path.resolve('bin/factor-universe.js');
const D = '2026-10-30';
const P = '2026-10-29';
const config = { ...loadConfig({}), dualWrite: true };

let t: TestDb;
before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
});
after(async () => t.close());

const phaseRows = async (date: string) =>
  (
    await t.pool.query(
      'SELECT phase, status, items_total, items_failed, error FROM batch_runs WHERE run_date = $1 ORDER BY id',
      [date],
    )
  ).rows;

describe('the daily batch', () => {
  it('runs every phase in order and records each in batch_runs', async () => {
    const report = await runDate(t.db, t.pool, config, P);
    assert.equal(report.failed, false);
    assert.deepEqual(
      report.phases.map((p) => p.phase),
      DAILY_PHASES.map((p) => p.name),
    );
    const rows = await phaseRows(P);
    assert.deepEqual(
      rows.map((r) => [r.phase, r.status]),
      [
        ['market_data', 'skipped'],
        ['company_profiles', 'completed'],
        ['universe_factors', 'completed'],
        ['symbol_metrics', 'completed'],
        ['portfolios', 'completed'],
        ['legacy_position_exposures', 'completed'],
      ],
    );
    assert.equal(rows[2].items_total, 48);
  });

  it('a rerun skips completed phases; --force runs them again', async () => {
    const again = await runDate(t.db, t.pool, config, P);
    assert.ok(again.phases.every((p) => p.status === 'skipped' && p.note === 'completed earlier'));
    assert.equal((await phaseRows(P)).length, 6, 'nothing new recorded');
    const forced = await runDate(t.db, t.pool, config, P, { force: true });
    assert.equal(forced.phases.filter((p) => p.status === 'completed').length, 5);
  });

  it('a failing phase stops its date and says why; the next run reruns it and goes on', async () => {
    let broken = true;
    const failing: Phase = {
      name: 'symbol_metrics',
      description: 'fails once',
      run: async (ctx) => {
        if (broken) throw new Error('metrics source unreachable');
        return DAILY_PHASES.find((p) => p.name === 'symbol_metrics')!.run(ctx);
      },
    };
    const phases = DAILY_PHASES.map((p) => (p.name === 'symbol_metrics' ? failing : p));
    const first = await runDate(t.db, t.pool, config, D, { phases });
    assert.equal(first.failed, true);
    assert.deepEqual(
      first.phases.map((p) => p.status),
      ['skipped', 'completed', 'completed', 'failed'],
    );
    assert.match(first.phases[3]!.error!, /metrics source unreachable/);
    const rows = await phaseRows(D);
    assert.equal(rows.at(-1).error, 'metrics source unreachable');
    broken = false;
    const second = await runDate(t.db, t.pool, config, D, { phases });
    assert.deepEqual(
      second.phases.map((p) => p.status),
      ['skipped', 'skipped', 'skipped', 'completed', 'completed', 'completed'],
    );
  });

  it('a second process on the same date is turned away by the advisory lock', async () => {
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('factor-universe:batch'), hashtext($1))", [D]);
      await assert.rejects(runDate(t.db, t.pool, config, D), DateLockedError);
      const child = await run(process.execPath, [cli, 'batch', 'run', '--date', D], {
        env: { ...process.env, DATABASE_URL: t.url },
      }).then(
        () => assert.fail('expected a non-zero exit'),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(child.code, 3);
      assert.match(child.stderr, new RegExp(`another batch process is running ${D}`));
    } finally {
      await holder.end();
    }
  });
});

describe('dual-write comparison', () => {
  it('reports 100% on a clean run and recommends retiring the legacy path', async () => {
    const r = await compareDualWrite(t.pool, P, D);
    assert.equal(r.dates_analyzed, 2);
    assert.ok(r.total_comparisons > 0);
    assert.deepEqual(
      [r.match_rate, r.discrepancies.length, r.missing_symbols.length, r.recommendation],
      [1, 0, 0, 'SAFE_TO_DEPRECATE'],
    );
    assert.equal(r.portfolio_comparison.match_rate, 1);
  });

  it('finds a discrepancy planted in the legacy table, and the command exits non-zero', async () => {
    const planted = (
      await t.pool.query(
        `UPDATE position_factor_exposures SET exposure_value = exposure_value + 0.01
          WHERE (position_id, factor_id, calculation_date) = (SELECT position_id, factor_id, calculation_date FROM position_factor_exposures
                                                             WHERE calculation_date = $1 AND is_option ORDER BY 1, 2 LIMIT 1)
          RETURNING position_id, factor_id`,
        [D],
      )
    ).rows[0];
    const r = await compareDualWrite(t.pool, P, D);
    assert.equal(r.discrepancies.length, 1);
    const d = r.discrepancies[0]!;
    assert.deepEqual([d.position_id, d.is_option, d.date], [planted.position_id, true, D]);
    assert.ok(Math.abs(d.difference - 0.01) < 1e-9);
    assert.equal(r.recommendation, 'INVESTIGATE_DISCREPANCIES');
    assert.ok(r.match_rate < 1);
    const child = await run(process.execPath, [cli, 'compare', '--start-date', P, '--end-date', D], {
      env: { ...process.env, DATABASE_URL: t.url },
    }).then(
      () => assert.fail('expected a non-zero exit'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(child.code, 1);
    assert.match(child.stdout, /Recommendation: INVESTIGATE_DISCREPANCIES/);
  });
});
