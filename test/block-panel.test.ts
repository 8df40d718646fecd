import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadModel } from '../src/factors/model.ts';
import { BlockPanels } from '../src/risk/block-panel.ts';
import { DEFAULT_RISK_SETTINGS } from '../src/risk/report.ts';
import { loadClosesOn, loadReturnHistory, returnsEndingAt, type ReturnHistory } from '../src/risk/store.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

/**
 * A block's return window: each day's returns cut from one matrix of the block's closes equal the
 * day's own read. First the pure cut against returns worked out by hand, then the block reader
 * against `loadReturnHistory` / `loadClosesOn` of each day on a hand-made store.
 */

/** Row of `h` for `s` as plain numbers (NaN kept). */
const row = (h: ReturnHistory, s: string) => [...(h.bySymbol.get(s) ?? [])];

describe('returnsEndingAt (pure)', () => {
  // two symbols on six trading days; B has no close on the 4th day (index 3)
  const m = {
    dates: ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09', '2026-01-12'],
    symbols: ['A', 'B'],
    closes: Float64Array.from([100, 110, 99, 99, 120, 60, 50, 40, 50, NaN, 25, 50]),
  };

  it('gives the last `days` returns ending at the index, by hand', () => {
    const h = returnsEndingAt(m, 4, 3);
    assert.deepEqual(h.dates, ['2026-01-07', '2026-01-08', '2026-01-09']);
    assert.deepEqual(h.symbols, ['A', 'B']);
    // A: 110 → 99 is −0.1 (in floating point 99/110 − 1), 99 → 99 is 0, 99 → 120 is 21/99
    assert.deepEqual(row(h, 'A'), [99 / 110 - 1, 0, 120 / 99 - 1]);
    assert.ok(Math.abs(row(h, 'A')[0]! - -0.1) < 1e-15);
    // B: 40 → 50 is +0.25; a missing close makes its own day's return and the next one NaN
    assert.equal(row(h, 'B')[0], 0.25);
    assert.ok(Number.isNaN(row(h, 'B')[1]!) && Number.isNaN(row(h, 'B')[2]!));
    assert.equal(h.returns.length, 2 * 3);
  });

  it('gives fewer returns when the matrix starts less than `days` days before', () => {
    const h = returnsEndingAt(m, 2, 5);
    assert.deepEqual(h.dates, ['2026-01-06', '2026-01-07']);
    assert.deepEqual(row(h, 'A'), [110 / 100 - 1, 99 / 110 - 1]);
    assert.deepEqual(row(h, 'B'), [40 / 50 - 1, 0.25]);
    assert.deepEqual(returnsEndingAt(m, 0, 5).dates, [], 'the first day has no return');
  });

  it('ends at the last index as the panel of the whole matrix does', () => {
    const h = returnsEndingAt(m, 5, 2);
    assert.deepEqual(h.dates, ['2026-01-09', '2026-01-12']);
    assert.deepEqual(row(h, 'A'), [120 / 99 - 1, -0.5]);
    assert.ok(Number.isNaN(row(h, 'B')[0]!));
    assert.equal(row(h, 'B')[1], 1);
  });

  it('starts no earlier than the last trading day on or before the calendar reach (a gap)', () => {
    // days = 3 reaches ceil(4.8) + 10 = 15 calendar days back: from 2026-01-22 to 2026-01-07. The
    // 4th trading day back is 01-05, but 01-06 is on or before the reach: the window starts there,
    // so the day has two returns (01-21 over 01-06, 01-22 over 01-21), as the day's own read gives.
    const g = {
      dates: ['2026-01-01', '2026-01-05', '2026-01-06', '2026-01-21', '2026-01-22'],
      symbols: ['A'],
      closes: Float64Array.from([10, 20, 40, 50, 60]),
    };
    const h = returnsEndingAt(g, 4, 3);
    assert.deepEqual(h.dates, ['2026-01-21', '2026-01-22']);
    assert.deepEqual(row(h, 'A'), [0.25, 60 / 50 - 1]);
  });
});

describe('the block reader', () => {
  const CAL = 'SPY';
  // 14 trading days with a 16-day gap after the 4th (the reach of a 4-day window is 17 days)
  const DAYS = [
    '2026-01-05',
    '2026-01-06',
    '2026-01-07',
    '2026-01-08',
    '2026-01-24',
    '2026-01-26',
    '2026-01-27',
    '2026-01-28',
    '2026-01-29',
    '2026-01-30',
    '2026-02-02',
    '2026-02-03',
    '2026-02-04',
    '2026-02-05',
  ];
  const WINDOW = 4;
  let t: TestDb;

  before(async () => {
    t = await createTestDb();
    const rows: [string, string, number][] = [];
    DAYS.forEach((d, i) => {
      rows.push([CAL, d, 400 + 3 * i + (i % 3)]);
      rows.push(['AAA', d, 100 * (1 + 0.01 * ((i * 7) % 5))]);
      if (i !== 6) rows.push(['BBB', d, 50 + i]); // no close on the 7th day
      if (i >= 9) rows.push(['NEW', d, 20 - i / 2]); // listed within the second block
    });
    rows.push(['AAA', '2026-01-31', 999]); // a Saturday: not a trading day, ignored
    await t.pool.query(
      'INSERT INTO market_data_cache (symbol, date, close) SELECT * FROM unnest($1::text[], $2::date[], $3::float8[])',
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
  });
  after(async () => t?.close());

  /** Each day of the block against its own read: the same dates, the same returns of every symbol asked. */
  async function compareBlock(block: string[], asked: (day: string) => string[]): Promise<BlockPanels> {
    const model = await loadModel(t.db);
    const panels = new BlockPanels(t.db, t.pool, model, block, DEFAULT_RISK_SETTINGS, WINDOW);
    const scenarioDates = ['2026-01-06', '2026-01-28'];
    for (const day of block) {
      const symbols = asked(day);
      const fromBlock = await panels.history(CAL, day, WINDOW, symbols);
      const own = await loadReturnHistory(t.pool, CAL, day, WINDOW, symbols);
      assert.deepEqual(fromBlock.dates, own.dates, day);
      for (const s of [...symbols, CAL]) {
        const a = row(fromBlock, s);
        const b = row(own, s);
        // a symbol without closes in the day's window is absent from its own read: NaN in the block's
        if (b.length === 0) assert.ok(a.every(Number.isNaN), `${day} ${s}`);
        else assert.deepEqual(a, b, `${day} ${s}`);
      }
      const closes = await panels.closesOn(symbols, scenarioDates);
      for (const [k, v] of await loadClosesOn(t.pool, symbols, scenarioDates))
        assert.equal(closes.get(k), v, k);
    }
    return panels;
  }

  it('gives each day of a block at the calendar start (fewer days before it) its own returns', async () => {
    const panels = await compareBlock(DAYS.slice(0, 6), () => ['AAA', 'BBB']);
    assert.equal(panels.reads, 1, 'one read for the block');
  });

  it('gives each day of a later block its own returns, reading a symbol a day adds once more', async () => {
    const panels = await compareBlock(DAYS.slice(6), (day) =>
      day >= '2026-02-02' ? ['AAA', 'BBB', 'NEW'] : ['AAA', 'BBB'],
    );
    assert.equal(panels.reads, 2, "the block's read, then NEW's");
  });

  it('after the gap: the window starts at the reach', async () => {
    const h = await loadReturnHistory(t.pool, CAL, '2026-01-26', WINDOW, ['AAA']);
    // the calendar reach of 01-26 is 01-09: the day's returns start after 01-08
    assert.deepEqual(h.dates, ['2026-01-24', '2026-01-26']);
    const panels = await compareBlock(['2026-01-26', '2026-01-27'], () => ['AAA']);
    assert.equal(panels.reads, 1);
  });
});
