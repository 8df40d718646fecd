/**
 * A portfolio's history starts at its inception (its earliest entry date): a run for an earlier date
 * writes no snapshot for it, and snapshots an older run wrote before then are not served as history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer } from '../src/api/server.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { runFactors } from '../src/factors/run.ts';
import { runPortfolios } from '../src/portfolios/run.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

let t: TestDb;
let inception: string;
let before1: string;
let portfolioId: number;

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  const p = await t.pool.query<{ id: number; inception: string }>(
    `SELECT portfolio_id AS id, min(entry_date)::text AS inception FROM positions
      WHERE portfolio_id = (SELECT id FROM portfolios WHERE name = 'Long/Short Equity') GROUP BY portfolio_id`,
  );
  portfolioId = p.rows[0]!.id;
  inception = p.rows[0]!.inception;
  // the trading day before inception, from the stored closes
  before1 = (
    await t.pool.query<{ d: string }>(
      `SELECT max(date)::text AS d FROM market_data_cache WHERE symbol = 'SPY' AND date < $1`,
      [inception],
    )
  ).rows[0]!.d;
  for (const date of [before1, inception]) await runFactors(t.db, t.pool, { date });
});
after(async () => t.close());

const snapshotDates = async () =>
  (
    await t.pool.query<{ d: string }>(
      'SELECT snapshot_date::text AS d FROM portfolio_snapshots WHERE portfolio_id = $1 ORDER BY 1',
      [portfolioId],
    )
  ).rows.map((r) => r.d);

describe("a portfolio's history starts at its inception", () => {
  it('a run for the trading day before the earliest entry date writes no snapshot; the entry date does', async () => {
    await runPortfolios(t.db, t.pool, { date: before1 });
    assert.deepEqual(await snapshotDates(), []);
    await runPortfolios(t.db, t.pool, { date: inception });
    assert.deepEqual(await snapshotDates(), [inception]);
  });

  it('a snapshot an older run left before inception is not served by GET /snapshots', async () => {
    // what the old code wrote: a flat snapshot on a date before the portfolio existed
    await t.pool.query(
      `INSERT INTO portfolio_snapshots (portfolio_id, snapshot_date, equity, total_value, cash, long_exposure,
         short_exposure, gross_exposure, net_exposure, positions_count, missing_prices)
       SELECT portfolio_id, $2::date, equity, total_value, cash, 0, 0, 0, 0, 0, '[]'::jsonb
         FROM portfolio_snapshots WHERE portfolio_id = $1 AND snapshot_date = $3`,
      [portfolioId, before1, inception],
    );
    assert.deepEqual(await snapshotDates(), [before1, inception]);
    const secret = 'inception-test-secret-of-enough-length-0123';
    const app = await buildServer({ db: t.db, pool: t.pool, config: loadConfig({}), secret });
    try {
      const owner = (
        await t.pool.query<{ id: number }>('SELECT owner_id AS id FROM portfolios WHERE id = $1', [
          portfolioId,
        ])
      ).rows[0]!.id;
      const token = app.jwt.sign({ sub: owner, username: 'demo', tv: 0 });
      const res = await app.inject({
        url: `/api/v1/portfolios/${portfolioId}/snapshots`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(
        (res.json() as { snapshots: { date: string }[] }).snapshots.map((s) => s.date),
        [inception],
      );
    } finally {
      await app.close();
    }
  });
});
