import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DayPanelCache } from '../src/risk/panel-cache.ts';
import type { DayPanel } from '../src/risk/day-panel.ts';
import { DEFAULT_RISK_SETTINGS } from '../src/risk/report.ts';
import { loadReturnHistory } from '../src/risk/store.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

/**
 * The day panel's return matrix (one query for all symbols) equals the returns read symbol by
 * symbol, one query each, on the calendar's trading days: a hand-made store with a missing close
 * and a close on a day that is not a trading day.
 */
const CAL = 'SPY';
const DAYS = ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09', '2026-01-12'];
const CLOSES: Record<string, (number | null)[]> = {
  [CAL]: [400, 404, 402, 410, 405, 408],
  AAA: [100, 110, 99, 99, 120, 60],
  BBB: [50, 51, null, 52, 53, 54], // no close on the 7th: the 7th's and the 8th's returns are NaN
  CCC: [10, 10.5, 11, 12.5, 12, 13],
};
let t: TestDb;

before(async () => {
  t = await createTestDb();
  const rows = Object.entries(CLOSES).flatMap(([s, cs]) =>
    cs.flatMap((c, i) => (c === null ? [] : [[s, DAYS[i]!, c] as const])),
  );
  rows.push(['CCC', '2026-01-10', 999]); // a Saturday: not a trading day of the calendar, ignored
  await t.pool.query(
    'INSERT INTO market_data_cache (symbol, date, close) SELECT * FROM unnest($1::text[], $2::date[], $3::float8[])',
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
});
after(async () => t?.close());

/** The per-symbol path: one query per symbol, its closes on the calendar's days, returns of the last `days`. */
async function perSymbol(symbol: string, date: string, days: number): Promise<number[]> {
  const { rows } = await t.pool.query<{ close: number | null }>(
    `SELECT m.close FROM market_data_cache c
       LEFT JOIN market_data_cache m ON m.symbol = $2 AND m.date = c.date
      WHERE c.symbol = $1 AND c.date <= $3 ORDER BY c.date`,
    [CAL, symbol, date],
  );
  const closes = rows.map((r) => r.close ?? NaN);
  const out: number[] = [];
  for (let i = closes.length - days; i < closes.length; i++) out.push(closes[i]! / closes[i - 1]! - 1);
  return out;
}

describe('the return panel loader', () => {
  it('returns the same returns as the per-symbol path, one matrix', async () => {
    const h = await loadReturnHistory(t.pool, CAL, '2026-01-12', 4, ['AAA', 'BBB', 'CCC']);
    assert.deepEqual(h.dates, DAYS.slice(2));
    assert.deepEqual(h.symbols, ['AAA', 'BBB', 'CCC', CAL]);
    assert.equal(h.returns.length, 4 * 4);
    for (const s of ['AAA', 'BBB', 'CCC', CAL]) {
      const row = h.bySymbol.get(s)!;
      assert.equal(row.buffer, h.returns.buffer, `${s} is a view of the matrix`);
      assert.deepEqual([...row], await perSymbol(s, '2026-01-12', 4), s);
    }
    // by hand: AAA 110 → 99 → 99 → 120 → 60
    assert.ok(Math.abs(h.bySymbol.get('AAA')![0]! - -0.1) < 1e-15);
    assert.equal(h.bySymbol.get('AAA')![1], 0);
    assert.equal(h.bySymbol.get('AAA')![3], -0.5);
    assert.ok(Number.isNaN(h.bySymbol.get('BBB')![0]!) && Number.isNaN(h.bySymbol.get('BBB')![1]!));
  });

  it('reads every symbol when none are named, with the same rows', async () => {
    const all = await loadReturnHistory(t.pool, CAL, '2026-01-09', 3, null);
    const some = await loadReturnHistory(t.pool, CAL, '2026-01-09', 3, ['CCC']);
    assert.deepEqual(all.symbols, ['AAA', 'BBB', 'CCC', CAL]);
    assert.deepEqual([...all.bySymbol.get('CCC')!], [...some.bySymbol.get('CCC')!]);
    assert.deepEqual([...all.bySymbol.get('CCC')!], await perSymbol('CCC', '2026-01-09', 3));
  });
});

describe("what-if's panel cache", () => {
  const panelOf = (date: string) => ({ date }) as unknown as DayPanel;

  it('loads a date once, drops it and later dates on a change, and keeps at most maxDates', async () => {
    let live = true;
    const cache = new DayPanelCache(2, () => live);
    let loads = 0;
    const load = (date: string) => () => {
      loads++;
      return Promise.resolve(panelOf(date));
    };
    const s = DEFAULT_RISK_SETTINGS;
    const a = await cache.get('2026-01-08', s, load('2026-01-08'));
    assert.equal(await cache.get('2026-01-08', s, load('2026-01-08')), a);
    await cache.get('2026-01-09', s, load('2026-01-09'));
    assert.equal(loads, 2);
    assert.deepEqual(cache.held, ['2026-01-08', '2026-01-09']);
    // a change of the 9th drops the 9th (and later), not the 8th
    cache.drop('2026-01-09');
    assert.deepEqual(cache.held, ['2026-01-08']);
    // a change of an earlier date drops every panel whose window may hold it
    cache.drop('2026-01-02');
    assert.deepEqual(cache.held, []);
    for (const d of ['2026-01-06', '2026-01-07', '2026-01-08']) await cache.get(d, s, load(d));
    assert.deepEqual(cache.held, ['2026-01-07', '2026-01-08']);
    cache.drop('*');
    assert.deepEqual(cache.held, []);
    // while the LISTEN connection is down nothing is held
    live = false;
    await cache.get('2026-01-08', s, load('2026-01-08'));
    assert.deepEqual(cache.held, []);
  });

  it('does not keep a load that a drop overtook', async () => {
    const cache = new DayPanelCache(2, () => true);
    let release!: (p: DayPanel) => void;
    const loading = cache.get('2026-01-08', DEFAULT_RISK_SETTINGS, () => new Promise((r) => (release = r)));
    cache.drop('2026-01-08');
    // the drop removed the entry; a new request starts a new load
    assert.deepEqual(cache.held, []);
    const again = cache.get('2026-01-08', DEFAULT_RISK_SETTINGS, () => Promise.resolve(panelOf('new')));
    release(panelOf('old'));
    assert.equal(((await loading) as unknown as { date: string }).date, 'old');
    assert.equal(((await again) as unknown as { date: string }).date, 'new');
    assert.deepEqual(cache.held, ['2026-01-08']);
  });
});
