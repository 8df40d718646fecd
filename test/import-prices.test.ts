import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ImportError } from '../src/imports/csv.ts';
import { importPriceFile, importPrices } from '../src/imports/prices.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

let t: TestDb;
const dir = scratchDir();
before(async () => (t = await createTestDb()));
after(async () => t.close());

const count = async (symbol: string) =>
  Number(
    (await t.pool.query('SELECT count(*) FROM market_data_cache WHERE symbol = $1', [symbol])).rows[0].count,
  );

/** Imports a file that must be rejected and returns the error. */
async function rejected(file: string): Promise<ImportError> {
  const e = await importPriceFile(t.pool, file).then(
    () => assert.fail('the import should have been rejected'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof ImportError, String(e));
  return e;
}

describe('import prices: long format', () => {
  it('loads symbol,date,close with optional OHLCV and keeps the universe current', async () => {
    const file = writeLines(dir, 'long.csv', [
      'symbol,date,close,open,high,low,volume',
      'AAA,2024-01-02,10.5,10,11,9.5,1000',
      'AAA,2024-01-03,10.75,,,,',
      'BBB,2024-01-02,20,,,,',
      'BBB,2024-01-04,21,,,,',
    ]);
    const r = await importPriceFile(t.pool, file);
    assert.deepEqual([r.rows, r.inserted, r.updated, r.unchanged, r.symbols], [4, 4, 0, 0, 2]);
    const row = await t.db
      .selectFrom('market_data_cache')
      .selectAll()
      .where('symbol', '=', 'AAA')
      .where('date', '=', '2024-01-02')
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [row.close, row.open, row.high, row.low, row.volume, row.source],
      [10.5, 10, 11, 9.5, 1000, 'long.csv'],
    );
    const u = await t.db
      .selectFrom('symbol_universe')
      .selectAll()
      .where('symbol', '=', 'BBB')
      .executeTakeFirstOrThrow();
    assert.deepEqual([u.first_seen, u.last_seen], ['2024-01-02', '2024-01-04']);
  });

  it('re-importing the same file changes nothing, not even row versions', async () => {
    const file = writeLines(dir, 'same.csv', [
      'symbol,date,close',
      'SAME,2024-02-01,5',
      'SAME,2024-02-02,5.5',
    ]);
    await importPriceFile(t.pool, file);
    const before = await t.pool.query(
      "SELECT xmin::text, updated_at FROM market_data_cache WHERE symbol = 'SAME' ORDER BY date",
    );
    const uBefore = await t.pool.query("SELECT xmin::text FROM symbol_universe WHERE symbol = 'SAME'");
    const r = await importPriceFile(t.pool, file);
    assert.deepEqual([r.inserted, r.updated, r.unchanged], [0, 0, 2]);
    const afterRows = await t.pool.query(
      "SELECT xmin::text, updated_at FROM market_data_cache WHERE symbol = 'SAME' ORDER BY date",
    );
    assert.deepEqual(afterRows.rows, before.rows);
    assert.deepEqual(
      (await t.pool.query("SELECT xmin::text FROM symbol_universe WHERE symbol = 'SAME'")).rows,
      uBefore.rows,
    );
  });

  it('upserts on (symbol, date): a changed close replaces the stored one', async () => {
    await importPriceFile(
      t.pool,
      writeLines(dir, 'v1.csv', ['symbol,date,close', 'UPD,2024-03-01,7', 'UPD,2024-03-04,8']),
    );
    const r = await importPriceFile(
      t.pool,
      writeLines(dir, 'v2.csv', ['symbol,date,close', 'UPD,2024-03-01,7.25', 'UPD,2024-03-05,9']),
    );
    assert.deepEqual([r.inserted, r.updated, r.unchanged], [1, 1, 0]);
    const closes = await t.pool.query(
      "SELECT date::text, close FROM market_data_cache WHERE symbol = 'UPD' ORDER BY date",
    );
    assert.deepEqual(closes.rows, [
      { date: '2024-03-01', close: 7.25 },
      { date: '2024-03-04', close: 8 },
      { date: '2024-03-05', close: 9 },
    ]);
  });

  it('reads gzipped files and drops an identical repeated row', async () => {
    const file = writeLines(dir, 'gz.csv.gz', [
      'symbol,date,close',
      'GZ,2024-01-02,1',
      'GZ,2024-01-03,2',
      'GZ,2024-01-02,1',
    ]);
    const r = await importPriceFile(t.pool, file);
    assert.deepEqual([r.rows, r.inserted, r.unchanged], [3, 2, 0]);
    assert.equal(await count('GZ'), 2);
  });

  it('keeps a missing day missing (no forward fill)', async () => {
    await importPriceFile(
      t.pool,
      writeLines(dir, 'gap.csv', ['symbol,date,close', 'GAP,2024-01-02,1', 'GAP,2024-01-04,3']),
    );
    const dates = await t.pool.query(
      "SELECT date::text FROM market_data_cache WHERE symbol = 'GAP' ORDER BY date",
    );
    assert.deepEqual(
      dates.rows.map((r) => r.date),
      ['2024-01-02', '2024-01-04'],
    );
  });
});

describe('import prices: bad input is rejected whole, naming file, line and column', () => {
  const cases: [string, string, RegExp][] = [
    ['unparseable date', 'BAD,2024-13-01,10', /:3: column "date": unparseable date "2024-13-01"/],
    ['impossible day', 'BAD,2023-02-29,10', /:3: column "date": unparseable date "2023-02-29"/],
    ['missing price', 'BAD,2024-01-03,', /:3: column "close": value is missing/],
    ['zero price', 'BAD,2024-01-03,0', /:3: column "close": must not be zero, got "0"/],
    ['negative price', 'BAD,2024-01-03,-4.5', /:3: column "close": must be positive, got "-4.5"/],
    ['NaN price', 'BAD,2024-01-03,NaN', /:3: column "close": not a finite number: "NaN"/],
    ['infinite price', 'BAD,2024-01-03,Infinity', /:3: column "close": not a finite number: "Infinity"/],
    ['text price', 'BAD,2024-01-03,12.3.4', /:3: column "close": not a finite number: "12.3.4"/],
    ['missing symbol', ',2024-01-03,10', /:3: column "symbol": symbol is missing/],
    ['wrong field count', 'BAD,2024-01-03', /:3: expected 3 fields, found 2/],
  ];
  for (const [name, badLine, message] of cases) {
    it(name, async () => {
      const file = writeLines(dir, `bad-${name.replace(/ /g, '-')}.csv`, [
        'symbol,date,close',
        'BAD,2024-01-02,10',
        badLine,
        'BAD,2024-01-04,11',
      ]);
      const e = await rejected(file);
      assert.match(e.message, message);
      assert.ok(e.message.includes(file), 'the message names the file');
      assert.equal(await count('BAD'), 0, 'nothing of the file is written');
    });
  }

  it('duplicate (symbol, date) with a different close, even far apart in the file', async () => {
    const lines = ['symbol,date,close', 'DUP,2024-01-02,10'];
    for (let i = 0; i < 50; i++) lines.push(`OTHER${i},2024-01-02,1`);
    lines.push('DUP,2024-01-02,10.01');
    const e = await rejected(writeLines(dir, 'dup.csv', lines));
    assert.match(
      e.message,
      /:53: duplicate row for DUP on 2024-01-02 with a different value \(lines 2, 53\)/,
    );
    assert.equal(await count('DUP'), 0);
    assert.equal(await count('OTHER0'), 0, 'valid rows of a rejected file are not written either');
  });

  it('a missing required column is named', async () => {
    const e = await rejected(writeLines(dir, 'nohead.csv', ['ticker,date,price', 'X,2024-01-02,1']));
    assert.match(e.message, /:1: header lacks required column\(s\) symbol, close/);
  });

  it('a rejected file leaves earlier data untouched', async () => {
    await importPriceFile(t.pool, writeLines(dir, 'keep.csv', ['symbol,date,close', 'KEEP,2024-01-02,10']));
    await rejected(
      writeLines(dir, 'keep-bad.csv', ['symbol,date,close', 'KEEP,2024-01-02,11', 'KEEP,2024-01-03,-1']),
    );
    const r = await t.pool.query("SELECT close FROM market_data_cache WHERE symbol = 'KEEP'");
    assert.deepEqual(r.rows, [{ close: 10 }]);
  });
});

describe('import prices: folder of per-symbol files', () => {
  it('takes the symbol from each file name; a bad file is rejected alone', async () => {
    const folder = scratchDir();
    writeLines(folder, 'FOLD1.csv', ['date,close', '2024-01-02,1', '2024-01-03,1.1']);
    writeLines(folder, 'FOLD2.csv', ['date,close', '2024-01-02,2']);
    writeLines(folder, 'FOLD3.csv', ['date,close', '2024-01-02,3', 'yesterday,3.1']);
    writeLines(folder, 'notes.txt', ['not a price file']);
    const s = await importPrices(t.pool, folder);
    assert.deepEqual(
      s.results.map((r) => r.rows),
      [2, 1],
    );
    assert.equal(s.failures.length, 1);
    assert.match(s.failures[0]!.message, /FOLD3\.csv:3: column "date": unparseable date "yesterday"/);
    assert.deepEqual([await count('FOLD1'), await count('FOLD2'), await count('FOLD3')], [2, 1, 0]);
  });
});
