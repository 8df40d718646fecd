import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { migrateToLatest, migrator } from '../src/db/migrate.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

/**
 * Migration 0010 moves the factor stage's rows from three tall tables into the wide, partitioned
 * `symbol_day_factors`, and back. A populated database goes down and up again with every row intact:
 * the pipeline's own rows, plus hand-made rows the pipeline never writes (a specific vol without
 * betas, a lone skip, a year with no partition yet).
 */
const D = '2026-10-30';
const P = '2026-10-29';

const QUERIES = {
  symbol_factor_exposures:
    'SELECT symbol, factor_id::int, calculation_date::text, beta, r_squared, observations, quality_flag FROM symbol_factor_exposures ORDER BY 1, 2, 3',
  symbol_factor_skips:
    'SELECT symbol, factor_id::int, calculation_date::text, reason, observations FROM symbol_factor_skips ORDER BY 1, 2, 3',
  symbol_specific_risk:
    'SELECT symbol, calculation_date::text, specific_vol, observations FROM symbol_specific_risk ORDER BY 1, 2',
} as const;

let t: TestDb;
const fingerprint = async () =>
  Object.fromEntries(
    await Promise.all(
      Object.entries(QUERIES).map(async ([name, q]) => [name, (await t.pool.query(q)).rows] as const),
    ),
  );
const kind = async (name: string) =>
  (await t.pool.query<{ k: string }>('SELECT relkind::text AS k FROM pg_class WHERE relname = $1', [name]))
    .rows[0]?.k;

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  const done = await runPipeline(
    t,
    { ...loadConfig({}), dualWrite: false },
    { from: P, to: D, kind: 'backfill' },
  );
  assert.equal(done.status, 'completed', String(done.error));
});
after(async () => t.close());

describe('migration 0010: the wide factor rows, down and up with rows intact', () => {
  it('down: the three tall tables come back with every row, their keys and foreign keys', async () => {
    const before = await fingerprint();
    assert.ok(before.symbol_factor_exposures!.length >= 2 * 40 * 11, 'the pipeline wrote betas');
    assert.ok(before.symbol_specific_risk!.length > 0);
    const r = await migrator(t.db).migrateTo('0009_market_data_providers');
    assert.equal(r.error, undefined, String(r.error));
    assert.deepEqual(
      [
        await kind('symbol_factor_exposures'),
        await kind('symbol_factor_skips'),
        await kind('symbol_specific_risk'),
      ],
      ['r', 'r', 'r'],
    );
    assert.equal(await kind('symbol_day_factors'), undefined);
    assert.deepEqual(await fingerprint(), before);
    // the old foreign key is back: a beta of an unknown factor is refused
    await assert.rejects(
      t.pool.query(
        "INSERT INTO symbol_factor_exposures (symbol, factor_id, calculation_date, beta, observations, quality_flag) VALUES ('X', 99, '2026-10-30', 1, 1, 'capped')",
      ),
      /foreign key/,
    );
  });

  it('up: the rows, including ones the pipeline never writes, read the same through the views', async () => {
    // A lone skip, a specific vol without betas, and a beta of 2019 (no partition for that year yet).
    await t.pool.query(`
      INSERT INTO symbol_factor_skips (symbol, factor_id, calculation_date, reason, observations)
        VALUES ('LONE', 3, '2026-10-30', 'insufficient_observations', 7);
      INSERT INTO symbol_specific_risk (symbol, calculation_date, specific_vol, observations)
        VALUES ('VOLONLY', '2026-10-29', 0.25, 200);
      INSERT INTO symbol_factor_exposures (symbol, factor_id, calculation_date, beta, r_squared, observations, quality_flag)
        VALUES ('OLD', 11, '2019-03-01', ${Math.PI / 3}, 0.5, 250, 'full_history'),
               ('OLD', 2, '2019-03-01', -1e-9, NULL, 40, 'limited_history');`);
    const before = await fingerprint();
    await migrateToLatest(t.db);
    assert.deepEqual(
      [
        await kind('symbol_factor_exposures'),
        await kind('symbol_factor_skips'),
        await kind('symbol_specific_risk'),
      ],
      ['v', 'v', 'v'],
    );
    assert.equal(await kind('symbol_day_factors'), 'p', 'a partitioned table');
    assert.equal(await kind('symbol_day_factors_2019'), 'r', 'the year 2019 got its partition');
    assert.deepEqual(await fingerprint(), before);
    // one wide row per (date, symbol): 2 dates × 40 stocks and the proxies, plus LONE, VOLONLY and OLD
    const { rows } = await sql<{ n: number; pairs: number }>`
      SELECT count(*)::int AS n, (SELECT count(*)::int FROM (
        SELECT calculation_date, symbol FROM symbol_factor_exposures UNION SELECT calculation_date, symbol FROM symbol_factor_skips
        UNION SELECT calculation_date, symbol FROM symbol_specific_risk) x) AS pairs
      FROM symbol_day_factors`.execute(t.db);
    assert.equal(rows[0]!.n, rows[0]!.pairs);
  });

  it('the views stay writable: update, delete and a duplicate insert behave as the tables did', async () => {
    await t.pool.query(
      "UPDATE symbol_factor_exposures SET beta = 2.5 WHERE symbol = 'OLD' AND factor_id = 11 AND calculation_date = '2019-03-01'",
    );
    const b = await t.pool.query(
      "SELECT beta, r_squared, quality_flag FROM symbol_factor_exposures WHERE symbol = 'OLD' AND factor_id = 11",
    );
    assert.deepEqual(b.rows, [{ beta: 2.5, r_squared: 0.5, quality_flag: 'full_history' }]);
    await assert.rejects(
      t.pool.query(
        "INSERT INTO symbol_factor_exposures (symbol, factor_id, calculation_date, beta, observations, quality_flag) VALUES ('OLD', 2, '2019-03-01', 1, 1, 'capped')",
      ),
      (e: { code?: string }) => e.code === '23505',
    );
    await t.pool.query("DELETE FROM symbol_factor_exposures WHERE symbol = 'OLD'");
    const gone = await t.pool.query("SELECT 1 FROM symbol_day_factors WHERE symbol = 'OLD'");
    assert.equal(gone.rowCount, 0, 'a row left with nothing is removed');
  });
});
