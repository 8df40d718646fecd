import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { compareDualWrite } from '../src/batch/compare.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
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
  const done = await runPipeline(t, config, { from: P, to: D, kind: 'backfill' });
  assert.equal(done.status, 'completed', String(done.error));
});
after(async () => t.close());

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
