import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minusMonths, weekdaysEndingOn } from '../src/dates.ts';
import { splitCsvLine } from '../src/imports/csv.ts';
import { isIsoDate } from '../src/imports/fields.ts';
import { canonicalSymbol } from '../src/imports/symbols.ts';
import { periodBases } from '../src/metrics/returns.ts';

describe('CSV fields', () => {
  it('splits plain and RFC 4180 quoted fields', () => {
    assert.deepEqual(splitCsvLine('a,b,,c'), ['a', 'b', '', 'c']);
    assert.deepEqual(splitCsvLine('MMM,"3M, Inc.",""""'), ['MMM', '3M, Inc.', '"']);
    assert.throws(() => splitCsvLine('a,"unterminated'), /unterminated/);
  });
  it('accepts only real calendar dates written YYYY-MM-DD', () => {
    assert.deepEqual(
      ['2024-02-29', '2023-02-29', '2024-13-01', '2024-1-01', '2000-02-29', '1900-02-29'].map(isIsoDate),
      [true, false, false, false, true, false],
    );
  });
  it('one spelling for class shares', () => {
    assert.deepEqual(['BRK.B', 'BF.B', 'AAPL', 'BRK-B'].map(canonicalSymbol), [
      'BRK-B',
      'BF-B',
      'AAPL',
      'BRK-B',
    ]);
  });
});

describe('calendar arithmetic', () => {
  it('subtracts calendar months, clamping to the month end', () => {
    assert.equal(minusMonths('2024-03-31', 1), '2024-02-29');
    assert.equal(minusMonths('2024-12-31', 12), '2023-12-31');
    assert.equal(minusMonths('2024-01-15', 3), '2023-10-15');
  });
  it('finds the return bases of METHODOLOGY.md 6 on a weekday calendar', () => {
    const dates = weekdaysEndingOn('2024-03-15', 300); // a Friday
    const b = periodBases(dates, dates.length - 1);
    assert.deepEqual(
      [b.return_1d, b.return_mtd, b.return_ytd, b.return_1m, b.return_3m, b.return_1y].map((i) => dates[i]),
      ['2024-03-14', '2024-02-29', '2023-12-29', '2024-02-15', '2023-12-15', '2023-03-15'],
    );
  });
});
