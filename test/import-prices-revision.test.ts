/**
 * One revision rule for prices from any source (issue 23 item 4): `import prices` with changed
 * closes does what a provider's revised history does — from the first changed daily return the
 * symbol's betas and metrics go (everyone's for a factor proxy), a rescaled history before it only
 * re-prices the metrics, and `market_data_revisions` records it — so the next batch run computes
 * them again instead of keeping betas of the old closes. (Before, 188,110 changed closes left every
 * beta in place and no revision row.) Expected counts come from the store as the pipeline left it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { importPrices } from '../src/imports/prices.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

let t: TestDb;
let D: string;
const config = { ...loadConfig({}), dualWrite: false };
const dir = scratchDir();

const count = async (sql: string, params: unknown[] = []) =>
  Number((await t.pool.query(sql, params)).rows[0].n);
const betasOf = (symbol: string) =>
  count('SELECT count(*) AS n FROM symbol_factor_exposures WHERE symbol = $1 AND calculation_date = $2', [
    symbol,
    D,
  ]);
const closesOf = async (symbol: string) =>
  (
    await t.pool.query<{ d: string; close: number }>(
      'SELECT date::text AS d, close FROM market_data_cache WHERE symbol = $1 ORDER BY date',
      [symbol],
    )
  ).rows;
/** A price file of `symbol`'s closes, each multiplied by `factor(i)` (i = index from the first date). */
async function revisedFile(name: string, symbol: string, factor: (i: number, n: number) => number) {
  const rows = await closesOf(symbol);
  return writeLines(dir, name, [
    'symbol,date,close',
    ...rows.map((r, i) => `${symbol},${r.d},${r.close * factor(i, rows.length)}`),
  ]);
}

let stockA: string;
let stockB: string;
let proxies: string[];

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  D = (await t.pool.query("SELECT max(date)::text AS d FROM market_data_cache WHERE symbol = 'SPY'")).rows[0]
    .d;
  const run = await runPipeline(t, config, { from: D, to: D, kind: 'run' });
  assert.equal(run.status, 'completed', String(run.error));
  proxies = (
    await t.pool.query<{ s: string }>(
      `SELECT long_proxy AS s FROM factor_definitions UNION SELECT short_proxy FROM factor_definitions WHERE short_proxy IS NOT NULL`,
    )
  ).rows.map((r) => r.s);
  const stocks = (
    await t.pool.query<{ symbol: string }>(
      `SELECT DISTINCT symbol FROM symbol_factor_exposures WHERE calculation_date = $1 AND NOT symbol = ANY($2) ORDER BY symbol LIMIT 2`,
      [D, proxies],
    )
  ).rows.map((r) => r.symbol);
  [stockA, stockB] = stocks as [string, string];
});
after(async () => t?.close());

describe('import prices revises like a provider', () => {
  it('changed closes (and returns) of a stock: its betas and metrics from the change go, a revision row is written, the next run computes them again', async () => {
    const before = await betasOf(stockA);
    const othersBefore = await count(
      'SELECT count(*) AS n FROM symbol_factor_exposures WHERE symbol <> $1 AND calculation_date = $2',
      [stockA, D],
    );
    assert.ok(before > 0);
    const closes = await closesOf(stockA);
    const firstChanged = closes.at(-5)!.d;
    // the last five closes 10 % higher: the return into the fifth-last day moves
    const file = await revisedFile('a.csv', stockA, (i, n) => (i >= n - 5 ? 1.1 : 1));
    const r = await importPrices(t.pool, file);
    assert.equal(r.failures.length, 0);
    assert.deepEqual(
      r.results[0]!.revised.map((x) => [x.symbol, x.firstChanged, x.betas]),
      [[stockA, firstChanged, before]],
    );
    assert.equal(await betasOf(stockA), 0, 'betas of the old closes remain');
    assert.equal(
      await count('SELECT count(*) AS n FROM symbol_daily_metrics WHERE symbol = $1 AND metric_date >= $2', [
        stockA,
        firstChanged,
      ]),
      0,
    );
    const others = await count(
      'SELECT count(*) AS n FROM symbol_factor_exposures WHERE symbol <> $1 AND calculation_date = $2',
      [stockA, D],
    );
    assert.equal(others, othersBefore, "other symbols' betas stay");
    const rev = (
      await t.pool.query(
        'SELECT provider, first_changed::text AS d, rows_replaced, betas_invalidated FROM market_data_revisions WHERE symbol = $1',
        [stockA],
      )
    ).rows;
    assert.deepEqual(rev, [
      { provider: 'import', d: firstChanged, rows_replaced: 5, betas_invalidated: before },
    ]);
    // Importing the same file again changes nothing and revises nothing.
    const again = await importPrices(t.pool, file);
    assert.deepEqual(again.results[0]!.revised, []);
    // The next batch run for the day computes them again, from the new closes.
    const rerun = await runPipeline(t, config, { from: D, to: D, kind: 'run' });
    assert.equal(rerun.status, 'completed', String(rerun.error));
    assert.equal(await betasOf(stockA), before);
  });

  it('a whole history rescaled by one factor (a split adjustment): returns unchanged, betas kept, metrics re-priced', async () => {
    const before = await betasOf(stockB);
    const file = await revisedFile('b.csv', stockB, () => 0.25);
    const r = await importPrices(t.pool, file);
    assert.equal(r.failures.length, 0);
    const [revised] = r.results[0]!.revised;
    assert.equal(revised?.symbol, stockB);
    assert.equal(revised?.betas, 0);
    assert.ok(revised!.repriced > 0);
    assert.equal(await betasOf(stockB), before);
    const { rows } = await t.pool.query(
      `SELECT m.current_price, c.close FROM symbol_daily_metrics m
         JOIN market_data_cache c ON c.symbol = m.symbol AND c.date = m.metric_date
        WHERE m.symbol = $1 AND m.metric_date = $2`,
      [stockB, D],
    );
    assert.equal(rows[0].current_price, rows[0].close);
  });

  it("a factor proxy's changed returns: every symbol's betas from the change go", async () => {
    assert.ok(proxies.includes('SPY'));
    assert.ok(
      (await count('SELECT count(*) AS n FROM symbol_factor_exposures WHERE calculation_date = $1', [D])) > 0,
    );
    const file = await revisedFile('spy.csv', 'SPY', (i, n) => (i >= n - 3 ? 1.05 : 1));
    const r = await importPrices(t.pool, file);
    assert.equal(r.failures.length, 0);
    assert.equal(
      await count('SELECT count(*) AS n FROM symbol_factor_exposures WHERE calculation_date = $1', [D]),
      0,
    );
    assert.equal(
      await count(
        "SELECT count(*) AS n FROM market_data_revisions WHERE symbol = 'SPY' AND provider = 'import'",
      ),
      1,
    );
  });
});
