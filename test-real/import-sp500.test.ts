import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { importCompanies } from '../src/imports/companies.ts';
import { importPrices } from '../src/imports/prices.ts';
import { createTestDb, type TestDb } from '../test/helpers/db.ts';

const SP500 = path.resolve('..', 'shared', 'data', 'sp500');
const PRICES = path.join(SP500, 'prices.csv.gz');

/** Rows per symbol, counted straight from the file with no code of ours in between. */
function rowsPerSymbolInFile(): Map<string, number> {
  const counts = new Map<string, number>();
  const lines = gunzipSync(readFileSync(PRICES)).toString('utf8').trim().split('\n').slice(1);
  for (const line of lines) {
    const symbol = line.slice(0, line.indexOf(','));
    counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
  }
  return counts;
}

describe('S&P 500 data: import round trip', () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
    const s = await importPrices(t.pool, PRICES);
    assert.equal(s.failures.length, 0, s.failures.map((f) => f.message).join('\n'));
    await importCompanies(t.pool, path.join(SP500, 'companies.csv'));
  });
  after(async () => t.close());

  it('stores every row: 1,825,415 closes for 558 symbols, per-symbol counts as in the file', async () => {
    const expected = rowsPerSymbolInFile();
    const { rows } = await t.pool.query<{ symbol: string; n: number }>(
      'SELECT symbol, count(*)::int AS n FROM market_data_cache GROUP BY symbol',
    );
    assert.equal(rows.length, 558);
    assert.equal(
      rows.reduce((s, r) => s + r.n, 0),
      1_825_415,
    );
    assert.deepEqual(new Map(rows.map((r) => [r.symbol, r.n])), expected);
  });

  it('keeps known closes exactly as written in the file', async () => {
    const { rows } = await t.pool.query(
      `SELECT symbol, close FROM market_data_cache
        WHERE (symbol, date) IN (('SPY', '2024-12-31'), ('AAPL', '2024-12-31'), ('BRK-B', '2024-12-31'), ('ACWI', '2013-01-02'))
        ORDER BY symbol`,
    );
    assert.deepEqual(rows, [
      { symbol: 'AAPL', close: 248.830215 },
      { symbol: 'ACWI', close: 37.576057 },
      { symbol: 'BRK-B', close: 453.279999 },
      { symbol: 'SPY', close: 576.21521 },
    ]);
  });

  it('preserves the FISV missing day (2025-11-12) as missing', async () => {
    const { rows } = await t.pool.query(
      "SELECT date::text AS date FROM market_data_cache WHERE symbol = 'FISV' AND date BETWEEN '2025-11-10' AND '2025-11-14' ORDER BY date",
    );
    assert.deepEqual(
      rows.map((r) => r.date),
      ['2025-11-10', '2025-11-11', '2025-11-13', '2025-11-14'],
    );
  });

  it('keeps the universe: proxies and symbols without a profile are ETFs, profiled ones equities with sectors', async () => {
    const { rows } = await t.pool.query<{ asset_type: string; n: number }>(
      'SELECT asset_type, count(*)::int AS n FROM symbol_universe GROUP BY asset_type ORDER BY asset_type',
    );
    // 503 constituents have a profile; the 55 others (54 ETFs and MDY) do not.
    assert.deepEqual(rows, [
      { asset_type: 'equity', n: 503 },
      { asset_type: 'etf', n: 55 },
    ]);
    const aapl = await t.db
      .selectFrom('symbol_universe')
      .selectAll()
      .where('symbol', '=', 'AAPL')
      .executeTakeFirstOrThrow();
    assert.equal(aapl.sector, 'Information Technology');
    assert.equal(aapl.last_seen, '2026-07-31');
    const brk = await t.db
      .selectFrom('symbol_universe')
      .selectAll()
      .where('symbol', '=', 'BRK-B')
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [brk.asset_type, brk.sector],
      ['equity', 'Financials'],
      'the profile BRK.B meets the prices of BRK-B',
    );
  });

  it('re-importing the same file changes nothing', async () => {
    const s = await importPrices(t.pool, PRICES);
    assert.deepEqual(
      [s.results[0]!.inserted, s.results[0]!.updated, s.results[0]!.unchanged],
      [0, 0, 1_825_415],
    );
  });
});
