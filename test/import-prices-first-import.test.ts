import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImportError } from '../src/imports/csv.ts';
import { importPriceFile } from '../src/imports/prices.ts';
import { createTestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

/**
 * A first import into an empty store COPYs straight into market_data_cache (no staging table). It
 * must end exactly as the staged merge does: the same rows, source and universe; an identical repeat
 * dropped; a differing repeat rejected by line with nothing written.
 */
const dir = scratchDir();

describe('import prices into an empty store', () => {
  it('writes every row with the file as source and the universe range of each symbol', async () => {
    const t = await createTestDb();
    try {
      const file = writeLines(dir, 'first.csv', [
        'symbol,date,close,volume',
        'AAA,2024-01-03,2.5,100',
        'BBB,2024-01-02,7,',
        'AAA,2024-01-02,2,50',
        'AAA,2024-01-04,3,60',
      ]);
      const r = await importPriceFile(t.pool, file);
      assert.deepEqual([r.rows, r.inserted, r.updated, r.unchanged, r.symbols], [4, 4, 0, 0, 2]);
      const rows = await t.pool.query(
        'SELECT symbol, date, close, volume, source FROM market_data_cache ORDER BY symbol, date',
      );
      assert.deepEqual(rows.rows, [
        { symbol: 'AAA', date: '2024-01-02', close: 2, volume: 50, source: 'first.csv' },
        { symbol: 'AAA', date: '2024-01-03', close: 2.5, volume: 100, source: 'first.csv' },
        { symbol: 'AAA', date: '2024-01-04', close: 3, volume: 60, source: 'first.csv' },
        { symbol: 'BBB', date: '2024-01-02', close: 7, volume: null, source: 'first.csv' },
      ]);
      const u = await t.pool.query(
        "SELECT symbol, first_seen, last_seen FROM symbol_universe WHERE symbol IN ('AAA', 'BBB') ORDER BY 1",
      );
      assert.deepEqual(u.rows, [
        { symbol: 'AAA', first_seen: '2024-01-02', last_seen: '2024-01-04' },
        { symbol: 'BBB', first_seen: '2024-01-02', last_seen: '2024-01-02' },
      ]);
    } finally {
      await t.close();
    }
  });

  it('an identical repeated row is dropped, as in a merge', async () => {
    const t = await createTestDb();
    try {
      const file = writeLines(dir, 'repeat.csv', [
        'symbol,date,close',
        'REP,2024-01-02,1',
        'REP,2024-01-03,2',
        'REP,2024-01-02,1',
      ]);
      const r = await importPriceFile(t.pool, file);
      assert.deepEqual([r.rows, r.inserted], [3, 2]);
      const n = await t.pool.query("SELECT count(*)::int AS n FROM market_data_cache WHERE symbol = 'REP'");
      assert.equal(n.rows[0].n, 2);
    } finally {
      await t.close();
    }
  });

  it('a differing repeat rejects the file by line, and nothing is written', async () => {
    const t = await createTestDb();
    try {
      const file = writeLines(dir, 'differ.csv', [
        'symbol,date,close',
        'DIF,2024-01-02,1',
        'OK,2024-01-02,5',
        'DIF,2024-01-02,1.5',
      ]);
      await assert.rejects(importPriceFile(t.pool, file), (e: unknown) => {
        assert.ok(e instanceof ImportError, String(e));
        assert.match(
          e.message,
          /:4: duplicate row for DIF on 2024-01-02 with a different value \(lines 2, 4\)/,
        );
        return true;
      });
      const n = await t.pool.query('SELECT count(*)::int AS n FROM market_data_cache');
      assert.equal(n.rows[0].n, 0);
    } finally {
      await t.close();
    }
  });
});
