import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  DASHBOARD_COLUMNS,
  DASHBOARD_NUMBER_COLUMNS,
  DASHBOARD_SORTABLE,
  dashboardJson,
  readDashboard,
  type DashboardQuery,
} from '../src/metrics/dashboard.ts';
import { ServedDates } from '../src/metrics/served-dates.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

/**
 * The dashboard answered from memory equals the SQL path (`readDashboard`, the reference) byte for
 * byte, on a cross-section built to be awkward: values drawn from a few numbers (many ties), NULL,
 * NaN, ±Infinity and -0 in every number column; names differing only in case, accents and
 * punctuation (the database's collation orders them); NULL texts. Every sortable column, both
 * orders, each filter, pages past the end, a date older than the served ones (memory declines:
 * SQL answers) and a date before every computed one.
 */
const OLD = '2026-10-28';
const PREV = '2026-10-29';
const LAST = '2026-10-30';
let t: TestDb;
let served: ServedDates;

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const NUMBERS = [
  null,
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0',
  '1.5',
  '1.5',
  '2',
  '-3.25',
  '1e300',
  '5e-324',
];
const NAMES = [
  null,
  'apple',
  'Apple',
  'APPLE',
  'Äpfel',
  'zeta',
  'Zeta',
  ' space',
  '-dash',
  'Ab Corp',
  'abc',
  'ABC Ltd',
];
const SECTORS = [null, 'Energy', 'Energy', 'Utilities', 'Information Technology', 'energy'];

async function insertDay(date: string, seed: number, count: number) {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const symbols = ['A', 'AA', 'AB', 'B', 'BRK.B', 'BRK-A', 'Z', 'ZZ', 'a.b', 'AB_C'];
  for (let i = 0; symbols.length < count; i++) symbols.push(`S${String(i).padStart(3, '0')}`);
  const columns = [
    'symbol',
    'metric_date',
    'company_name',
    'sector',
    'industry',
    ...DASHBOARD_NUMBER_COLUMNS,
  ];
  for (const symbol of symbols) {
    const values: unknown[] = [symbol, date, pick(NAMES), pick(SECTORS), pick(NAMES)];
    for (const c of DASHBOARD_NUMBER_COLUMNS) {
      const v = pick(NUMBERS);
      // CHECK constraints: data_quality_score BETWEEN 0 AND 100, specific_vol >= 0
      values.push(
        c === 'data_quality_score'
          ? pick([null, '0', '50', '50', '100'])
          : c === 'specific_vol'
            ? pick([null, '0', '0.2', '0.2', 'NaN', 'Infinity'])
            : v,
      );
    }
    await t.pool.query(
      `INSERT INTO symbol_daily_metrics (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      values,
    );
  }
}

before(async () => {
  t = await createTestDb();
  await insertDay(OLD, 1, 30);
  await insertDay(PREV, 2, 40);
  await insertDay(LAST, 3, 60);
  served = new ServedDates(t.pool, {
    maxDates: 2,
    listener: () => new pg.Client({ connectionString: t.url }),
  });
  await served.start();
});
after(async () => {
  await served?.stop();
  await t.close();
});

const FILTERS: Partial<DashboardQuery>[] = [
  {},
  { sector: 'Energy' },
  { minMarketCap: 1.5 },
  { maxMarketCap: 0 },
  { minMarketCap: 0, maxMarketCap: 2 },
  { maxPeRatio: 1.5 },
  { q: 'ab' }, // symbols AB, AB_C, a.b? no: "a.b" has no "ab"; names Ab Corp, abc, ABC Ltd
  { q: 'B' },
  { q: '_' }, // a wildcard in LIKE, a character here
  { q: 'nothing like it' },
  { sector: 'Energy', minMarketCap: 0, q: 'a' },
];

async function both(query: DashboardQuery): Promise<[string, string]> {
  const memory = await served.page(query);
  assert.ok(memory, `memory declined ${JSON.stringify(query)}`);
  const sql = dashboardJson(await readDashboard(t.pool, query));
  // the route's text (rows' JSON reused from earlier pages) is the same, asked twice
  for (let i = 0; i < 2; i++)
    assert.equal(
      (await served.json(query))?.toString('utf8'),
      sql,
      `the route's bytes of ${JSON.stringify(query)}`,
    );
  return [dashboardJson(memory), sql];
}

describe('the dashboard from memory equals the SQL path', () => {
  it('every sortable column, both orders, each filter, pages inside and past the end, on both served dates', async () => {
    let compared = 0;
    for (const date of [undefined, PREV, '2026-12-31']) {
      for (const sortBy of DASHBOARD_SORTABLE) {
        for (const sortOrder of ['asc', 'desc'] as const) {
          for (const filter of FILTERS) {
            for (const [offset, limit] of [
              [0, 500],
              [7, 5],
              [1000, 10],
            ] as const) {
              if (date !== undefined && (filter !== FILTERS[0] || offset !== 0)) continue;
              const query: DashboardQuery = {
                sortBy,
                sortOrder,
                ...filter,
                ...(date !== undefined && { date }),
                offset,
                limit,
                columns: DASHBOARD_COLUMNS,
              };
              const [memory, sql] = await both(query);
              assert.equal(memory, sql, JSON.stringify(query));
              compared++;
            }
          }
        }
      }
    }
    assert.ok(compared > 2000);
  });

  it('the awkward values are really there: ties, NULLs, NaN and infinities in one column', async () => {
    const [memory] = await both({
      sortBy: 'market_cap',
      sortOrder: 'desc',
      offset: 0,
      limit: 500,
      columns: ['symbol', 'market_cap'],
    });
    const caps = (JSON.parse(memory) as { symbols: { market_cap: number | null }[] }).symbols.map(
      (s) => s.market_cap,
    );
    assert.equal(caps.length, 60);
    // NaN is above +Infinity in PostgreSQL's order; both print null, and NULLs come last
    const firstNumber = caps.findIndex((c) => c !== null);
    assert.ok(firstNumber > 0, 'NaN rows (printed null) first in descending order');
    assert.equal(caps.at(-1), null);
    assert.ok(new Set(caps.filter((c) => c === 1.5)).size === 1 && caps.filter((c) => c === 1.5).length > 1);
  });

  it('a date before every computed one: no rows, and the first computed date as the nearest', async () => {
    const query: DashboardQuery = {
      sortBy: 'symbol',
      sortOrder: 'asc',
      date: '2026-01-01',
      offset: 0,
      limit: 10,
      columns: ['symbol'],
    };
    const [memory, sql] = await both(query);
    assert.equal(memory, sql);
    assert.deepEqual(JSON.parse(memory), {
      symbols: [],
      total_count: 0,
      metrics_date: null,
      nearest_metrics_date: OLD,
    });
  });

  it('a date not among the served ones, or a non-ASCII search, is declined (the SQL path answers)', async () => {
    const base = {
      sortBy: 'symbol' as const,
      sortOrder: 'asc' as const,
      offset: 0,
      limit: 10,
      columns: ['symbol' as const],
    };
    assert.equal(await served.page({ ...base, date: OLD }), null);
    assert.equal(await served.page({ ...base, q: 'äpfel' }), null);
    assert.ok(await served.page({ ...base, date: '2027-01-01' }));
    assert.ok(await served.page({ ...base, date: PREV }));
    assert.deepEqual(served.held, [PREV, LAST]);
  });
});
