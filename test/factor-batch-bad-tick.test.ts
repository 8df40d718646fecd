import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateDemoMarket } from '../src/demo/market.ts';
import { runFactors } from '../src/factors/run.ts';
import { runMetrics } from '../src/metrics/run.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { insertCloses } from './helpers/prices.ts';

/**
 * A bad tick in one symbol (a close of 1e-300 followed by 1e300: positive, finite, accepted by the
 * store's CHECK, but its return 1e300 / 1e-300 − 1 overflows to Infinity, and every regression on
 * it comes out NaN) is that symbol's recorded outcome. The symbols written in the same batch keep
 * their betas, and the metrics phase still writes every symbol.
 */
describe('a bad tick in one symbol among good ones', () => {
  const market = generateDemoMarket({ stocks: 40, days: 300 });
  const T = market.dates.length;
  const D = market.dates[T - 1]!;
  const stocks = market.stocks.map((s) => s.symbol);
  let t: TestDb;
  let factors: Awaited<ReturnType<typeof runFactors>>;

  before(async () => {
    t = await createTestDb();
    const rows = market.symbols.flatMap((symbol, s) =>
      market.dates.map((date, i) => ({ symbol, date, close: market.closes[s]![i]! })),
    );
    // BADT: a good stock's closes with a bad tick ten days before D (inside every window).
    const good = market.closes[market.symbols.indexOf(stocks[0]!)]!;
    market.dates.forEach((date, i) => {
      const close = i === T - 11 ? 1e-300 : i === T - 10 ? 1e300 : good[i]!;
      rows.push({ symbol: 'BADT', date, close });
      // FLAT: a close that never moves; METHODOLOGY §2: betas 0, no R² (a valid outcome, not a skip).
      rows.push({ symbol: 'FLAT', date, close: 100 });
    });
    await insertCloses(t.pool, rows);
    // batches of 15 in symbol order: BADT shares its batch with good stocks
    factors = await runFactors(t.db, t.pool, { date: D, batchSize: 15 });
  });
  after(async () => t.close());

  it('no factor write batch fails, and every good stock has its 11 betas', async () => {
    assert.deepEqual(factors.failures, []);
    const { rows } = await t.pool.query<{ symbol: string; n: number }>(
      'SELECT symbol, count(*)::int AS n FROM symbol_factor_exposures WHERE calculation_date = $1 GROUP BY symbol',
      [D],
    );
    const counts = new Map(rows.map((r) => [r.symbol, r.n]));
    for (const s of stocks) assert.equal(counts.get(s), 11, s);
    assert.equal(counts.get('BADT'), undefined, 'the bad symbol has no betas');
  });

  it("the bad symbol's outcome is recorded: degenerate_series for each of the 11 factors", async () => {
    const { rows } = await t.pool.query<{ reason: string; n: number }>(
      `SELECT reason, count(*)::int AS n FROM symbol_factor_skips WHERE calculation_date = $1 AND symbol = 'BADT' GROUP BY reason`,
      [D],
    );
    assert.deepEqual(rows, [{ reason: 'degenerate_series', n: 11 }]);
    assert.equal(factors.skipped.degenerate_series, 11);
  });

  it('a flat series is a valid outcome: betas 0 and R² null (METHODOLOGY §2, §3)', async () => {
    const { rows } = await t.pool.query<{ beta: number; r_squared: number | null }>(
      `SELECT beta, r_squared FROM symbol_factor_exposures WHERE calculation_date = $1 AND symbol = 'FLAT'`,
      [D],
    );
    assert.equal(rows.length, 11);
    for (const r of rows) assert.deepEqual([r.beta, r.r_squared], [0, null]);
  });

  it('the metrics phase writes every symbol; the bad one has no realised volatility', async () => {
    const r = await runMetrics(t.db, t.pool, D);
    assert.equal(r.symbols, market.symbols.length + 2);
    const { rows } = await t.pool.query<{
      symbol: string;
      realized_vol: number | null;
      factor_value: number | null;
    }>('SELECT symbol, realized_vol, factor_value FROM symbol_daily_metrics WHERE metric_date = $1', [D]);
    const bySymbol = new Map(rows.map((x) => [x.symbol, x]));
    for (const s of stocks) {
      assert.ok(bySymbol.get(s)!.realized_vol! > 0, s);
      assert.ok(Number.isFinite(bySymbol.get(s)!.factor_value), s);
    }
    assert.equal(bySymbol.get('BADT')!.realized_vol, null);
    assert.equal(bySymbol.get('BADT')!.factor_value, null);
  });
});
