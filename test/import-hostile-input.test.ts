import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ImportError } from '../src/imports/csv.ts';
import { readPositionsCsv } from '../src/imports/portfolio.ts';
import { importPriceFile, importPrices } from '../src/imports/prices.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

/**
 * Files an attacker or a broken export would send. Each is rejected whole, with a message naming
 * the file and (where there is one) the line, and nothing of it is written.
 */
let t: TestDb;
const dir = scratchDir();
before(async () => (t = await createTestDb()));
after(async () => t.close());

const stored = async () =>
  Number((await t.pool.query('SELECT count(*)::int AS n FROM market_data_cache')).rows[0].n);

/** Imports a file that must be rejected; checks nothing was written and returns the error. */
async function rejected(file: string): Promise<ImportError> {
  const before = await stored();
  const e = await importPriceFile(t.pool, file).then(
    () => assert.fail('the import should have been rejected'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof ImportError, `not an ImportError: ${String(e)}`);
  assert.equal(await stored(), before, 'nothing of a rejected file is written');
  assert.ok(e.message.includes(path.basename(file)), e.message);
  return e;
}

describe('import: numbers are decimal only', () => {
  // Number() reads 0x10 as 16, 0b11 as 3 and 0o17 as 15; a price file means none of them.
  for (const [text, what] of [
    ['0x10', 'hexadecimal'],
    ['0b11', 'binary'],
    ['0o17', 'octal'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
    ['NaN', 'NaN'],
    ['1_000', 'digit separators'],
    ['12abc', 'trailing garbage'],
    ['1e', 'a bare exponent'],
  ] as const) {
    it(`close ${text} (${what}) is rejected, naming line 3 and the column`, async () => {
      const file = writeLines(dir, `num-${what.replace(/\W/g, '')}.csv`, [
        'symbol,date,close',
        'NUMA,2024-01-02,10',
        `NUMA,2024-01-03,${text}`,
      ]);
      const e = await rejected(file);
      assert.deepEqual(
        e.problems.map((p) => [p.line, p.column]),
        [[3, 'close']],
      );
      assert.match(e.problems[0]!.message, /decimal notation only/);
    });
  }

  it('an empty close is rejected as missing', async () => {
    const e = await rejected(writeLines(dir, 'empty.csv', ['symbol,date,close', 'NUMB,2024-01-02,']));
    assert.deepEqual(
      e.problems.map((p) => [p.line, p.column, p.message]),
      [[2, 'close', 'value is missing']],
    );
  });

  it('decimal notation with an exponent, as pandas and spreadsheets write it, is accepted: 1.5e2 = 150, 2.5E-1 = 0.25', async () => {
    const file = writeLines(dir, 'exp.csv', [
      'symbol,date,close,volume',
      'NUMC,2024-01-02,1.5e2,1.2e+7',
      'NUMC,2024-01-03,+2.5E-1,0',
      'NUMC,2024-01-04,.5,12',
    ]);
    await importPriceFile(t.pool, file);
    const { rows } = await t.pool.query(
      "SELECT close, volume FROM market_data_cache WHERE symbol = 'NUMC' ORDER BY date",
    );
    assert.deepEqual(
      rows.map((r) => [r.close, r.volume]),
      [
        [150, 12_000_000],
        [0.25, 0],
        [0.5, 12],
      ],
    );
  });

  it('a portfolio quantity of 0x10 is rejected too (one number reader for every import)', async () => {
    const file = writeLines(dir, 'book.csv', ['symbol,position_type,quantity', 'AAA,LONG,0x10']);
    const e = await readPositionsCsv(file).then(
      () => assert.fail('should be rejected'),
      (err: unknown) => err as ImportError,
    );
    assert.deepEqual(
      e.problems.map((p) => [p.line, p.column]),
      [[2, 'quantity']],
    );
  });
});

describe('import: prices outside a sane range', () => {
  it('a close below 1e-6 is rejected with its line named (9e-7 on line 3)', async () => {
    const e = await rejected(
      writeLines(dir, 'tiny.csv', ['symbol,date,close', 'RNGA,2024-01-02,1', 'RNGA,2024-01-03,9e-7']),
    );
    assert.deepEqual(
      e.problems.map((p) => [p.line, p.column]),
      [[3, 'close']],
    );
    assert.match(e.problems[0]!.message, /1e-6/);
  });

  it('an absurdly large close (1e300) and high (2e9) are rejected; 1e-6 itself is accepted', async () => {
    const e = await rejected(
      writeLines(dir, 'huge.csv', [
        'symbol,date,close,high',
        'RNGB,2024-01-02,1e300,',
        'RNGB,2024-01-03,10,2e9',
      ]),
    );
    assert.deepEqual(
      e.problems.map((p) => [p.line, p.column]),
      [
        [2, 'close'],
        [3, 'high'],
      ],
    );
    await importPriceFile(t.pool, writeLines(dir, 'edge.csv', ['symbol,date,close', 'RNGC,2024-01-02,1e-6']));
  });
});

describe('import: malformed files', () => {
  it('a repeated header column is rejected, naming the column and line 1', async () => {
    const e = await rejected(
      writeLines(dir, 'twice.csv', ['symbol,date,close,Close', 'HDRA,2024-01-02,10,99']),
    );
    assert.equal(e.problems.length, 1);
    assert.equal(e.problems[0]!.line, 1);
    assert.match(e.problems[0]!.message, /"close" appears more than once/);
  });

  it('a truncated gzip is a clear rejection naming the file, not a crash', async () => {
    const whole = gzipSync(
      ['symbol,date,close', ...Array.from({ length: 2000 }, (_, i) => `GZA,2024-01-02,${i + 1}`)].join('\n'),
    );
    const file = path.join(dir, 'cut.csv.gz');
    writeFileSync(file, whole.subarray(0, whole.length - 40));
    const e = await rejected(file);
    assert.match(e.message, /cut\.csv\.gz/);
    assert.match(e.problems[0]!.message, /truncated or corrupt gzip/);
    // importPrices reports it as a failed file instead of throwing
    const summary = await importPrices(t.pool, file);
    assert.equal(summary.failures.length, 1);
  });

  it('a file named .gz that is not gzip is rejected the same way', async () => {
    const file = path.join(dir, 'plain.csv.gz');
    writeFileSync(file, 'symbol,date,close\nGZB,2024-01-02,1\n');
    assert.match((await rejected(file)).problems[0]!.message, /gzip/);
  });

  it('a NUL byte is rejected, naming its line', async () => {
    const file = path.join(dir, 'nul.csv');
    writeFileSync(file, 'symbol,date,close\nNULA,2024-01-02,10\nNULA,2024-01-03,1\u00001\n');
    const e = await rejected(file);
    assert.deepEqual(
      e.problems.map((p) => p.line),
      [3],
    );
    assert.match(e.problems[0]!.message, /NUL byte/);
  });

  it('year 0000 is rejected as a date out of range, with line and column', async () => {
    const e = await rejected(
      writeLines(dir, 'year0.csv', ['symbol,date,close', 'YRA,2024-01-02,1', 'YRA,0000-01-03,1']),
    );
    assert.deepEqual(
      e.problems.map((p) => [p.line, p.column]),
      [[3, 'date']],
    );
    assert.match(e.problems[0]!.message, /out of range/);
  });

  it('an over-long line is reported by its number and never echoed back', async () => {
    const secret = 'Z'.repeat(200_000);
    const file = writeLines(dir, 'long.csv', [
      'symbol,date,close',
      'LNGA,2024-01-02,1',
      `LNGA,2024-01-03,${secret}`,
    ]);
    const e = await rejected(file);
    assert.deepEqual(
      e.problems.map((p) => p.line),
      [3],
    );
    assert.match(e.problems[0]!.message, /characters/);
    assert.ok(!e.message.includes('ZZZZZZZZZZ'), 'the line is not echoed');
    assert.ok(e.message.length < 1000, `message of ${e.message.length} characters`);
  });

  it('a line without any newline that grows past the limit is not read into memory whole', async () => {
    const file = path.join(dir, 'endless.csv');
    writeFileSync(file, 'symbol,date,close\n' + 'A'.repeat(5_000_000));
    const e = await rejected(file);
    assert.deepEqual(
      e.problems.map((p) => p.line),
      [2],
    );
    assert.ok(!e.message.includes('AAAAAAAAAA'));
  });

  it('a long bad value is shown shortened, not whole', async () => {
    const value = `x${'9'.repeat(5000)}`;
    const e = await rejected(
      writeLines(dir, 'longval.csv', ['symbol,date,close', `LNGB,2024-01-02,${value}`]),
    );
    assert.ok(e.message.length < 500, `message of ${e.message.length} characters`);
  });
});
