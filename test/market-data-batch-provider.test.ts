import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { marketDataStage, STAGES } from '../src/pipeline/stages.ts';
import { defaultBackfillRange, runPipeline } from '../src/pipeline/submit.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { fakeServices, loadWorld } from './helpers/market-services.ts';

/**
 * The daily batch fed by a configured provider (Yahoo Finance through yahoo-finance2, answered by
 * the recorded-format stand-in): fetch → betas → metrics → portfolios, for the new day.
 */
const world = loadWorld();
const config = { ...loadConfig({}), marketDataProvider: 'yahoo', marketDataRetries: 0, dualWrite: false };
const phasesOn = (asOf: string) => {
  const svc = fakeServices(world, { asOf });
  return {
    svc,
    stages: STAGES.map((s) => (s.name === 'market_data' ? marketDataStage(svc.fetch) : s)),
  };
};

let t: TestDb;
let portfolioId: number;
before(async () => {
  t = await createTestDb();
  const user = await t.pool.query(
    "INSERT INTO users (username, password_hash) VALUES ('pm', 'x') RETURNING id",
  );
  const p = await t.pool.query(
    "INSERT INTO portfolios (owner_id, name, equity_balance) VALUES ($1, 'growth', 1000000) RETURNING id",
    [user.rows[0].id],
  );
  portfolioId = p.rows[0].id;
  await t.pool.query(
    `INSERT INTO positions (portfolio_id, symbol, position_type, quantity, entry_date)
     VALUES ($1, 'NVDA', 'LONG', 100, '2024-06-03'), ($1, 'AAPL', 'LONG', 50, '2024-06-03')`,
    [portfolioId],
  );
});
after(async () => t.close());

const close = async (symbol: string, date: string) =>
  (await t.pool.query('SELECT close FROM market_data_cache WHERE symbol = $1 AND date = $2', [symbol, date]))
    .rows[0]?.close as number;

describe('a configured provider feeds the daily batch', () => {
  it('the first evening fetches the history the windows need and runs every stage', async () => {
    const { svc, stages } = phasesOn('2024-06-12');
    const run = await runPipeline(
      t,
      config,
      { from: '2024-06-12', to: '2024-06-12', kind: 'run' },
      { stages },
    );
    assert.equal(run.status, 'completed', String(run.error));
    assert.deepEqual(run.stages.map((s) => [s.stage, s.completed, s.failed]).sort(), [
      ['factor_betas', 1, 0],
      ['market_data', 1, 0],
      ['portfolios', 1, 0],
      ['risk_model', 1, 0],
      ['symbol_metrics', 1, 0],
      ['universe', 1, 0],
    ]);
    // Factor proxies and the portfolio's holdings: 7 + 2 symbols, each from 400 days back.
    const charts = svc.requests.map((r) => new URL(r.url)).filter((u) => u.pathname.includes('/chart/'));
    assert.equal(charts.length, 9);
    assert.ok(charts.every((u) => u.searchParams.get('period1') === String(Date.UTC(2023, 4, 9) / 1000)));
  });

  it('the next evening fetches only the new day, then betas, metrics and portfolios are computed for it', async () => {
    const D = '2024-06-13';
    const { svc, stages } = phasesOn(D);
    const run = await runPipeline(t, config, { from: D, to: D, kind: 'run' }, { stages });
    assert.equal(run.status, 'completed', String(run.error));
    const charts = svc.requests.map((r) => new URL(r.url)).filter((u) => u.pathname.includes('/chart/'));
    assert.equal(charts.length, 9);
    assert.ok(charts.every((u) => u.searchParams.get('period1') === String(Date.UTC(2024, 5, 13) / 1000)));

    // fetch: the new closes (no action after 11 June, so adjusted = raw for these days)
    assert.equal(await close('NVDA', D), 129.396729);
    // betas of the new day, for every symbol
    const betas = await t.pool.query(
      'SELECT symbol, count(*)::int AS n FROM symbol_factor_exposures WHERE calculation_date = $1 GROUP BY symbol ORDER BY symbol',
      [D],
    );
    assert.deepEqual(
      betas.rows.map((r) => [r.symbol, r.n]),
      ['AAPL', 'IWM', 'MTUM', 'NVDA', 'QUAL', 'SPY', 'USMV', 'VTV', 'VUG'].map((s) => [s, 11]),
    );
    // metrics of the new day
    const m = await t.pool.query(
      "SELECT current_price, return_1d FROM symbol_daily_metrics WHERE symbol = 'NVDA' AND metric_date = $1",
      [D],
    );
    assert.equal(m.rows[0].current_price, 129.396729);
    assert.ok(Math.abs(m.rows[0].return_1d - (129.396729 / 124.993973 - 1)) < 1e-12);
    // portfolios of the new day: P&L = Σ quantity × (C_D − C_prev) (METHODOLOGY §8)
    const snap = await t.pool.query(
      'SELECT daily_pnl FROM portfolio_snapshots WHERE portfolio_id = $1 AND snapshot_date = $2',
      [portfolioId, D],
    );
    const pnl = 100 * (129.396729 - 124.993973) + 50 * (212.400085 - 211.240143);
    assert.ok(Math.abs(snap.rows[0].daily_pnl - pnl) < 1e-6, `${snap.rows[0].daily_pnl} vs ${pnl}`);
    const exposures = await t.pool.query(
      'SELECT count(*)::int AS n FROM factor_exposures WHERE portfolio_id = $1 AND calculation_date = $2',
      [portfolioId, D],
    );
    assert.equal(exposures.rows[0].n, 11);
  });

  it('a backfill without an end date first fetches the newest closes, then runs the day just closed', async () => {
    // The provider built from configuration uses the global fetch: answered here, never the network.
    const { svc, stages } = phasesOn('2024-06-14');
    const range = await defaultBackfillRange(t, config);
    // after the last completed run (13 June) up to today: the market data stage fetches the days since
    assert.deepEqual([range?.from, range?.to], ['2024-06-14', new Date().toISOString().slice(0, 10)]);
    const run = await runPipeline(t, config, { ...range!, kind: 'backfill' }, { stages });
    assert.equal(run.status, 'completed', String(run.error));
    assert.equal(run.days, 1, 'the one new trading day');
    assert.ok(svc.requests.length > 0);
    assert.equal(await close('NVDA', '2024-06-14'), 131.66301);
    const snap = await t.pool.query(
      "SELECT count(*)::int AS n FROM portfolio_snapshots WHERE portfolio_id = $1 AND snapshot_date = '2024-06-14'",
      [portfolioId],
    );
    assert.equal(snap.rows[0].n, 1);
  });
});
