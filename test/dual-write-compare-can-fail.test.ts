import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runPipeline } from '../src/pipeline/submit.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { compareDualWrite, gap } from '../src/legacy/compare.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

/**
 * The dual-write check must be able to fail: the legacy path is an independent implementation, and
 * `compare` holds every stored beta and exposure to it at 1e-8 (relative, absolute below 1e-6).
 */
const run = promisify(execFile);
const cli = path.resolve('bin/factor-universe.js');
const D = '2026-10-30';
const P = '2026-10-29';

let t: TestDb;
before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  const config = { ...loadConfig({}), dualWrite: true };
  const done = await runPipeline(t, config, { from: P, to: D, kind: 'backfill' });
  assert.equal(done.status, 'completed', String(done.error));
});
after(async () => t.close());

const compareCli = () =>
  run(process.execPath, [cli, 'compare', '--start-date', P, '--end-date', D], {
    env: { ...process.env, DATABASE_URL: t.url },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

describe('dual-write: compare against the independent legacy path', () => {
  it('on the demo market every beta and exposure agrees at 1e-8: SAFE_TO_DEPRECATE, exit 0', async (tc) => {
    const r = await compareDualWrite(t.pool, P, D);
    assert.deepEqual(
      [r.discrepancies.length, r.missing_symbols.length, r.missing_legacy.length, r.recommendation],
      [0, 0, 0, 'SAFE_TO_DEPRECATE'],
    );
    assert.ok(r.total_comparisons > 1000, String(r.total_comparisons));
    assert.equal(r.portfolio_comparison.match_rate, 1);
    const { rows } = await t.pool.query<{ a: number; b: number }>(
      `SELECT p.beta AS a, s.beta AS b FROM position_factor_exposures p
         JOIN symbol_factor_exposures s ON s.symbol = p.beta_symbol AND s.factor_id = p.factor_id AND s.calculation_date = p.calculation_date`,
    );
    const worst = Math.max(...rows.map((x) => gap(x.a, x.b)));
    tc.diagnostic(
      `${r.total_comparisons} position comparisons, ${r.portfolio_comparison.total_comparisons} portfolio exposures; largest beta gap ${worst.toExponential(2)}`,
    );
    const child = await compareCli();
    assert.equal(child.code, 0);
    assert.match(child.stdout, /Recommendation: SAFE_TO_DEPRECATE/);
  });

  it('a wrong beta planted in one legacy row (× (1 + 1e-7)) is named, and the command exits 1', async () => {
    const planted = (
      await t.pool.query<{ position_id: number; factor: string; beta: number }>(
        `UPDATE position_factor_exposures p SET beta = p.beta * (1 + 1e-7)
           FROM factor_definitions f
          WHERE f.id = p.factor_id AND (p.position_id, p.factor_id, p.calculation_date) =
                (SELECT position_id, factor_id, calculation_date FROM position_factor_exposures
                  WHERE calculation_date = $1 AND NOT is_option AND abs(beta) > 0.1 ORDER BY 1, 2 LIMIT 1)
          RETURNING p.position_id, f.name AS factor, p.beta`,
        [D],
      )
    ).rows[0]!;
    try {
      const r = await compareDualWrite(t.pool, P, D);
      assert.deepEqual(
        r.discrepancies.map((d) => [d.date, d.position_id, d.factor, d.field]),
        [[D, planted.position_id, planted.factor, 'beta']],
      );
      assert.equal(r.recommendation, 'INVESTIGATE_DISCREPANCIES');
      const child = await compareCli();
      assert.equal(child.code, 1);
      assert.ok(
        child.stdout.includes(`${D} position ${planted.position_id} `) &&
          child.stdout.includes(`${planted.factor} beta:`),
        child.stdout,
      );
    } finally {
      await t.pool.query(
        'UPDATE position_factor_exposures SET beta = exposure_value WHERE position_id = $1 AND calculation_date = $2 AND NOT is_option',
        [planted.position_id, D],
      );
    }
  });

  it('an engine beta off by 1e-7 relative is caught in every position that holds the symbol', async () => {
    const { rows } = await t.pool.query<{ symbol: string; factor_id: number; positions: number }>(
      `UPDATE symbol_factor_exposures s SET beta = s.beta * (1 + 1e-7)
        WHERE (s.symbol, s.factor_id, s.calculation_date) =
              (SELECT beta_symbol, factor_id, calculation_date FROM position_factor_exposures
                WHERE calculation_date = $1 AND abs(beta) > 0.1 ORDER BY position_id, factor_id LIMIT 1)
        RETURNING s.symbol, s.factor_id,
                  (SELECT count(*)::int FROM position_factor_exposures p
                    WHERE p.beta_symbol = s.symbol AND p.factor_id = s.factor_id AND p.calculation_date = s.calculation_date) AS positions`,
      [D],
    );
    const planted = rows[0]!;
    try {
      const r = await compareDualWrite(t.pool, P, D);
      const beta = r.discrepancies.filter((d) => d.field === 'beta');
      assert.equal(beta.length, planted.positions);
      assert.equal(r.recommendation, 'INVESTIGATE_DISCREPANCIES');
    } finally {
      await t.pool.query(
        'UPDATE symbol_factor_exposures SET beta = beta / (1 + 1e-7) WHERE symbol = $1 AND factor_id = $2 AND calculation_date = $3',
        [planted.symbol, planted.factor_id, D],
      );
    }
  });

  it('the legacy path shares no numerical code: src/legacy imports nothing from factors/, math/ or portfolios/', () => {
    const dir = path.resolve('src/legacy');
    for (const f of readdirSync(dir)) {
      const imports = [...readFileSync(path.join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map(
        (m) => m[1]!,
      );
      for (const i of imports) assert.ok(!/\/(factors|math|portfolios)\//.test(i), `${f} imports ${i}`);
    }
  });
});
