import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadMarketView } from '../src/portfolios/market.ts';
import { runPortfolios } from '../src/portfolios/run.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { insertCloses } from './helpers/prices.ts';

/**
 * METHODOLOGY.md §9 through the portfolio run, against the store: a portfolio's first date books no
 * P&L and starts from the stated equity; a stock entered on a later date books from its entry
 * price; the exit day books the last move and the position is no longer held at that close; the day
 * after, nothing. And §8's delta_prev volatility: the window ending on prev, loaded in bulk.
 */
const DAYS = ['2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05', '2025-06-06'];
const CLOSES: Record<string, number[]> = {
  SPY: [500, 501, 502, 503, 504],
  AAA: [100, 102, 101, 105, 110],
  BBB: [49, 50, 52, 51, 53],
  // returns +1%, −1%, +1%, then +5% on the last day
  UND: [100, 101, 99.99, 100.9899, 100.9899 * 1.05],
};

let t: TestDb;
let portfolioId: number;
const snapshots = new Map<
  string,
  { equity: number; daily_pnl: number; total_value: number; positions_count: number }
>();

before(async () => {
  t = await createTestDb();
  await insertCloses(
    t.pool,
    Object.entries(CLOSES).flatMap(([symbol, closes]) =>
      closes.map((close, i) => ({ symbol, date: DAYS[i]!, close })),
    ),
  );
  const user = await t.pool.query<{ id: number }>(
    "INSERT INTO users (username, password_hash) VALUES ('pnl', 'x') RETURNING id",
  );
  const p = await t.pool.query<{ id: number }>(
    "INSERT INTO portfolios (owner_id, name, equity_balance) VALUES ($1, 'life', 10000) RETURNING id",
    [user.rows[0]!.id],
  );
  portfolioId = p.rows[0]!.id;
  await t.pool.query(
    `INSERT INTO positions (portfolio_id, symbol, position_type, quantity, entry_price, entry_date, exit_date) VALUES
       ($1, 'AAA', 'LONG', 10, NULL, '2025-06-02', '2025-06-05'),
       ($1, 'BBB', 'LONG', 5, 51.5, '2025-06-04', NULL)`,
    [portfolioId],
  );
  for (const date of DAYS) {
    const r = await runPortfolios(t.db, t.pool, { date });
    assert.deepEqual(r.failures, []);
  }
  const { rows } = await t.pool.query(
    'SELECT snapshot_date::text AS d, equity, daily_pnl, total_value, positions_count FROM portfolio_snapshots WHERE portfolio_id = $1',
    [portfolioId],
  );
  for (const { d, ...r } of rows) snapshots.set(d, r);
});
after(async () => t.close());

describe('portfolio P&L over the life of its positions', () => {
  it('first date 06-02: no P&L, equity = the stated 10,000; AAA held (10 × 100 = 1,000)', () => {
    assert.deepEqual(snapshots.get('2025-06-02'), {
      equity: 10000,
      daily_pnl: 0,
      total_value: 1000,
      positions_count: 1,
    });
  });

  it('06-03, an ordinary day: AAA 10 × (102 − 100) = 20 → equity 10,020', () => {
    assert.deepEqual(snapshots.get('2025-06-03'), {
      equity: 10020,
      daily_pnl: 20,
      total_value: 1020,
      positions_count: 1,
    });
  });

  it("06-04, BBB's entry day: AAA 10 × (101 − 102) = −10, BBB 5 × (52 − 51.50) = 2.50 → −7.50, equity 10,012.50", () => {
    assert.deepEqual(snapshots.get('2025-06-04'), {
      equity: 10012.5,
      daily_pnl: -7.5,
      total_value: 1010 + 260,
      positions_count: 2,
    });
  });

  it("06-05, AAA's exit day: its last move 10 × (105 − 101) = 40, BBB 5 × (51 − 52) = −5 → 35; only BBB held (255)", () => {
    assert.deepEqual(snapshots.get('2025-06-05'), {
      equity: 10047.5,
      daily_pnl: 35,
      total_value: 255,
      positions_count: 1,
    });
  });

  it('06-06, after the exit: AAA books nothing; BBB 5 × (53 − 51) = 10 → equity 10,057.50', async () => {
    assert.deepEqual(snapshots.get('2025-06-06'), {
      equity: 10057.5,
      daily_pnl: 10,
      total_value: 265,
      positions_count: 1,
    });
    const { rows } = await t.pool.query(
      "SELECT count(*)::int AS n FROM position_daily_values v JOIN positions p ON p.id = v.position_id WHERE p.symbol = 'AAA' AND value_date = '2025-06-06'",
    );
    assert.equal(rows[0].n, 0);
  });
});

describe("an option's delta_prev volatility: the window ending on prev, loaded in bulk", () => {
  it('computed from closes: prev 06-05 has returns +1%, −1%, +1% → sample sd 1.1547% → 18.330% a year', async () => {
    const m = await loadMarketView(t.pool, 'SPY', '2025-06-06', ['UND'], ['UND'], 365);
    // mean 1/300; deviations 2/300, −4/300, 2/300; Σ² = 24/90,000; / 2 = 1.3333e-4; sqrt = 0.011547
    // × sqrt(252) = 0.183303
    assert.equal(m.prevDate, '2025-06-05');
    const prev = m.prevRealizedVol('UND')!;
    assert.ok(Math.abs(prev - 0.183303) < 1e-6, String(prev));
    // D's window adds the +5% day: a different, larger number
    assert.ok(m.realizedVol('UND')! > 0.3);
  });

  it("stored by the metrics phase: each day's own realized_vol", async () => {
    await t.pool.query(
      `INSERT INTO symbol_daily_metrics (symbol, metric_date, realized_vol) VALUES
         ('UND', '2025-06-05', 0.5), ('UND', '2025-06-06', 0.7)`,
    );
    const m = await loadMarketView(t.pool, 'SPY', '2025-06-06', ['UND'], ['UND'], 365);
    assert.deepEqual([m.prevRealizedVol('UND'), m.realizedVol('UND')], [0.5, 0.7]);
  });
});
