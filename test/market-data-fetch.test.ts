import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runFactors } from '../src/factors/run.ts';
import { fetchPrices } from '../src/market/fetch-prices.ts';
import { fetchProfiles } from '../src/market/fetch-profiles.ts';
import { yahooProvider } from '../src/market/providers/yahoo.ts';
import { createProvider } from '../src/market/providers/index.ts';
import { tiingoProvider } from '../src/market/providers/tiingo.ts';
import type { MarketDataProvider } from '../src/market/providers/types.ts';
import { runMetrics } from '../src/metrics/run.ts';
import { loadConfig } from '../src/config.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';
import {
  fakeServices,
  loadWorld,
  serviceBars,
  tiingoPricesBody,
  type World,
} from './helpers/market-services.ts';
import { insertCloses } from './helpers/prices.ts';

const world = loadWorld();
const KEY = 'tiingo-secret-4f9a1c77e2';
const FAST = { timeoutMs: 2000, retries: 2, baseDelayMs: 1, requestsPerSecond: 1000 };
const PROXIES = ['SPY', 'VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV'];

let t: TestDb;
beforeEach(async () => {
  t = await createTestDb();
});
afterEach(async () => t.close());

function tiingo(asOf: string, override?: Parameters<typeof fakeServices>[1]['override'], w: World = world) {
  const svc = fakeServices(w, { asOf, tiingoKey: KEY, ...(override ? { override } : {}) });
  return { svc, provider: tiingoProvider(svc.fetch, KEY, FAST) };
}

/** The (startDate, endDate) of each Tiingo price request for `symbol`. */
const ranges = (requests: { url: string }[], symbol: string) =>
  requests
    .map((r) => new URL(r.url))
    .filter((u) => u.pathname === `/tiingo/daily/${symbol.toLowerCase()}/prices`)
    .map((u) => [u.searchParams.get('startDate'), u.searchParams.get('endDate')]);

/** Trading days of the fixture world in [from, to] (its calendar: SPY's dates). */
const days = (from: string, to: string) =>
  world.bars
    .get('SPY')!
    .map((b) => b.date)
    .filter((d) => d >= from && d <= to);

const stored = async (symbol: string) =>
  (
    await t.pool.query<{ date: string; close: number; unadjusted_close: number | null }>(
      'SELECT date::text AS date, close, unadjusted_close FROM market_data_cache WHERE symbol = $1 ORDER BY date',
      [symbol],
    )
  ).rows;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const rows = (symbol: string, from: string, to: string, asOf: string) =>
  JSON.parse(tiingoPricesBody(world, symbol, from, to, asOf)) as { date: string; adjClose: number }[];

/** fetchPrices through Tiingo on `to`, for `symbols`, with SPY as the calendar. */
const fetchOn = (provider: MarketDataProvider, to: string, symbols: string[], historyDays = 30) =>
  fetchPrices(t.pool, { provider, to, historyDays, symbols, calendarSymbol: 'SPY' });

describe('incremental fetch', () => {
  it('a first fetch takes FU_MARKET_DATA_HISTORY_DAYS; the next asks only for the dates after the last stored close', async () => {
    const first = tiingo('2024-06-07');
    const a = await fetchOn(first.provider, '2024-06-07', ['SPY', 'AAPL']);
    assert.deepEqual(ranges(first.svc.requests, 'SPY'), [['2024-05-08', '2024-06-07']]); // 30 calendar days back
    assert.deepEqual(a.counts, { stored: 2, revised: 0, unchanged: 0, not_covered: 0, failed: 0 });
    assert.equal((await stored('AAPL')).length, days('2024-05-08', '2024-06-07').length);

    const next = tiingo('2024-06-12');
    const b = await fetchOn(next.provider, '2024-06-12', ['SPY', 'AAPL']);
    assert.deepEqual(ranges(next.svc.requests, 'SPY'), [['2024-06-08', '2024-06-12']]);
    assert.deepEqual(ranges(next.svc.requests, 'AAPL'), [['2024-06-08', '2024-06-12']]);
    assert.equal(b.rows, 6); // 10, 11 and 12 June for two symbols
    assert.deepEqual(
      (await stored('AAPL')).slice(-3).map((r) => [r.date, r.close]),
      [
        ['2024-06-10', 191.461472],
        ['2024-06-11', 205.370987],
        ['2024-06-12', 211.240143],
      ],
    );

    const again = tiingo('2024-06-12');
    const c = await fetchOn(again.provider, '2024-06-12', ['SPY', 'AAPL']);
    assert.equal(again.svc.requests.length, 0, 'nothing is missing: nothing is asked');
    assert.equal(c.counts.unchanged, 2);
  });
});

describe('failures stay with their symbol', () => {
  it('a 500 for one symbol leaves the others stored; a 429 then success is retried; the run reports partial success', async () => {
    const { provider, svc } = tiingo('2024-06-12', (url, n) => {
      if (url.pathname.includes('/aapl/')) return new Response('upstream error', { status: 500 });
      if (url.pathname.includes('/nvda/') && n === 1)
        return new Response('{"detail":"rate limited"}', { status: 429, headers: { 'retry-after': '0' } });
      return undefined;
    });
    const r = await fetchPrices(t.pool, {
      provider,
      to: '2024-06-12',
      historyDays: 60,
      symbols: ['SPY', 'AAPL', 'NVDA'],
      calendarSymbol: 'SPY',
    });
    assert.deepEqual(r.failures, [
      { symbol: 'AAPL', reason: 'HTTP 500 from api.tiingo.com/tiingo/daily/aapl/prices (after 3 attempts)' },
    ]);
    assert.deepEqual([r.counts.stored, r.counts.failed], [2, 1]);
    assert.equal(ranges(svc.requests, 'NVDA').length, 2, 'the 429 was asked again');
    assert.equal((await stored('AAPL')).length, 0);
    assert.equal((await stored('NVDA')).length, days('2024-04-13', '2024-06-12').length);
    const recorded = await t.pool.query(
      'SELECT run_id, provider, kind, symbol, reason FROM market_data_fetch_failures',
    );
    assert.deepEqual(recorded.rows, [
      { run_id: r.runId, provider: 'tiingo', kind: 'prices', symbol: 'AAPL', reason: r.failures[0]!.reason },
    ]);
  });

  it('bad answers give a readable reason and store nothing of that symbol', async () => {
    const from = '2024-05-29';
    const to = '2024-06-07';
    const { provider } = tiingo(to, (url) => {
      const symbol = /daily\/([^/]+)\/prices/.exec(url.pathname)?.[1]?.toUpperCase();
      if (!symbol) return undefined;
      const body = rows(symbol, from, to, to);
      switch (symbol) {
        case 'AAPL':
          return new Response('<html><head><title>503 Service Unavailable</title></head></html>', {
            status: 200,
            headers: { 'content-type': 'text/html' },
          });
        case 'NVDA':
          return json(body.map((b) => (b.date.startsWith('2024-06-05') ? { ...b, adjClose: 0 } : b)));
        case 'VTV':
          return json(body.filter((b) => !b.date.startsWith('2024-06-05')));
        case 'VUG':
          return json([]);
        case 'IWM':
          return json(body.filter((b) => b.date < '2024-06-06'));
        case 'QUAL':
          return json(body.map((b) => (b.date.startsWith('2024-06-03') ? { ...b, adjClose: 'NaN' } : b)));
      }
      return undefined;
    });
    const r = await fetchPrices(t.pool, {
      provider,
      to,
      historyDays: 9,
      symbols: ['SPY', 'AAPL', 'NVDA', 'VTV', 'VUG', 'IWM', 'QUAL', 'FB'],
      calendarSymbol: 'SPY',
    });
    assert.deepEqual(Object.fromEntries(r.failures.map((f) => [f.symbol, f.reason])), {
      AAPL: 'api.tiingo.com/tiingo/daily/aapl/prices answered an HTML page instead of data (HTTP 200, "503 Service Unavailable")',
      FB: "Tiingo: FB: Error: Ticker 'fb' not found (HTTP 404)",
      IWM: 'the series stops on 2024-06-05, though the market traded on 2 day(s) since (symbol renamed or delisted?)',
      NVDA: 'bad values: 2024-06-05: adjusted close must not be zero, got 0',
      QUAL: 'bad values: 2024-06-03: adjusted close is missing',
      VTV: 'gaps in the series: no bar on 2024-06-05 (trading days of the calendar)',
      VUG: 'empty series: no bars from 2024-05-29 to 2024-06-07, though the market traded on 8 day(s) (symbol renamed or delisted?)',
    });
    const symbols = await t.pool.query('SELECT DISTINCT symbol FROM market_data_cache');
    assert.deepEqual(
      symbols.rows.map((x) => x.symbol),
      ['SPY'],
    );
    assert.equal(
      (await t.pool.query('SELECT count(*)::int AS n FROM market_data_fetch_failures')).rows[0].n,
      7,
    );
  });

  it('the key never appears in logs, errors or recorded reasons', async () => {
    const logs: string[] = [];
    const svc = fakeServices(world, {
      asOf: '2024-06-07',
      tiingoKey: KEY,
      override: (url) => {
        if (url.pathname.includes('/aapl/')) return json({ detail: `Invalid token ${KEY}` }, 401);
        if (url.pathname.includes('/nvda/')) return new Response(`backend saw token=${KEY}`, { status: 502 });
        return undefined;
      },
    });
    const config = {
      ...loadConfig({}),
      marketDataProvider: 'tiingo',
      tiingoApiKey: KEY,
      marketDataRetries: 1,
    };
    const provider = createProvider(config, { fetch: svc.fetch, log: (m) => logs.push(m) });
    const r = await fetchPrices(t.pool, {
      provider,
      to: '2024-06-07',
      historyDays: 9,
      symbols: ['SPY', 'AAPL', 'NVDA'],
      calendarSymbol: 'SPY',
    });
    assert.equal(r.failures.length, 2);
    assert.equal(
      r.failures.find((f) => f.symbol === 'AAPL')!.reason,
      'Tiingo: AAPL: Invalid token *** (HTTP 401)',
    );
    assert.ok(logs.length > 0, 'the 502 retry was logged');
    const recorded = await t.pool.query('SELECT reason FROM market_data_fetch_failures');
    const everything = JSON.stringify({ logs, r, recorded: recorded.rows });
    assert.ok(!everything.includes(KEY), everything);
    assert.ok(
      svc.requests.every((q) => !q.url.includes(KEY)),
      'the key travels in a header only',
    );
  });
});

describe('splits and dividends', () => {
  it('a new split replaces the stored history with the adjusted series; the metrics keep up with it', async () => {
    const before = tiingo('2024-06-07');
    await fetchPrices(t.pool, {
      provider: before.provider,
      to: '2024-06-07',
      historyDays: 200,
      symbols: ['SPY', 'NVDA'],
      calendarSymbol: 'SPY',
    });
    assert.equal((await stored('NVDA')).find((r) => r.date === '2024-06-07')!.close, 1206.79176); // pre-split
    await runMetrics(t.db, t.pool, '2024-06-07');
    const metricsOf7June = async () =>
      (
        await t.pool.query(
          "SELECT current_price, return_1d, return_1m FROM symbol_daily_metrics WHERE symbol = 'NVDA' AND metric_date = '2024-06-07'",
        )
      ).rows[0];
    const old = await metricsOf7June();
    assert.equal(old.current_price, 1206.79176);

    const after = tiingo('2024-06-12');
    const r = await fetchPrices(t.pool, {
      provider: after.provider,
      to: '2024-06-12',
      historyDays: 200,
      symbols: ['SPY', 'NVDA'],
      calendarSymbol: 'SPY',
    });
    // The incremental answer carried the split (10 June) and the dividend (11 June): the whole range again.
    assert.deepEqual(ranges(after.svc.requests, 'NVDA'), [
      ['2024-06-08', '2024-06-12'],
      ['2024-01-02', '2024-06-12'],
    ]);
    assert.equal(r.revised.length, 1);
    assert.deepEqual(r.revised[0]!.revision, {
      firstChanged: '2024-01-02',
      returnsFrom: null,
      betas: 0,
      metrics: 0,
      repriced: 1,
    });
    const nvda = await stored('NVDA');
    assert.equal(nvda.length, days('2024-01-02', '2024-06-12').length);
    // 7 June: raw 1206.79176 ÷ 10 (split) × (1 − 0.01 / 121.579605) (dividend on the 11th, prior close 121.579605).
    const june7 = nvda.find((x) => x.date === '2024-06-07')!;
    assert.ok(Math.abs(june7.close - (1206.79176 / 10) * (1 - 0.01 / 121.579605)) < 1e-6);
    assert.equal(june7.unadjusted_close, 1206.79176);
    const worst = Math.min(...nvda.slice(1).map((x, i) => x.close / nvda[i]!.close - 1));
    assert.ok(worst > -0.2, `no split-sized drop remains (worst day ${worst})`);
    const revision = await t.pool.query(
      'SELECT symbol, first_changed::text, metrics_invalidated, metrics_repriced, actions FROM market_data_revisions',
    );
    assert.deepEqual(revision.rows, [
      {
        symbol: 'NVDA',
        first_changed: '2024-01-02',
        metrics_invalidated: 0,
        metrics_repriced: 1,
        actions: [
          { kind: 'split', date: '2024-06-10', ratio: 10 },
          { kind: 'dividend', date: '2024-06-11', amount: 0.01 },
        ],
      },
    ]);
    // Rescaled closes leave the returns (and betas) alone: the metrics row keeps them and shows the
    // adjusted close at once; the metrics run, run again, agrees with it.
    const repriced = await metricsOf7June();
    assert.equal(repriced.current_price, june7.close);
    assert.ok(
      Math.abs(repriced.return_1d - old.return_1d) < 1e-6 &&
        Math.abs(repriced.return_1m - old.return_1m) < 1e-6,
    );
    await runMetrics(t.db, t.pool, '2024-06-07');
    const recomputed = await metricsOf7June();
    assert.equal(recomputed.current_price, june7.close);
    assert.ok(Math.abs(recomputed.return_1m - repriced.return_1m) < 1e-6);
  });

  it('a split day stored unadjusted: the betas that used it are removed and the factor run recomputes them', async () => {
    const symbols = [...PROXIES, 'NVDA'];
    // What a naive feed stored: raw closes, so NVDA "falls" 90% on the split day.
    await insertCloses(
      t.pool,
      symbols.flatMap((s) =>
        serviceBars(world, s, '2024-01-02', '2024-06-12', '2024-06-12').map((b) => ({
          symbol: s,
          date: b.date,
          close: b.raw,
        })),
      ),
    );
    for (const d of ['2024-06-07', '2024-06-11', '2024-06-12']) await runFactors(t.db, t.pool, { date: d });
    const marketBeta = async (d: string) =>
      (
        await t.pool.query(
          "SELECT beta FROM symbol_factor_exposures WHERE symbol = 'NVDA' AND factor_id = 11 AND calculation_date = $1",
          [d],
        )
      ).rows[0]?.beta as number | undefined;
    const staleBeta = (await marketBeta('2024-06-12'))!;
    const others = "SELECT count(*)::int AS n FROM symbol_factor_exposures WHERE symbol <> 'NVDA'";
    const othersBefore = (await t.pool.query(others)).rows[0].n;

    const { provider } = tiingo('2024-06-12');
    const r = await fetchPrices(t.pool, {
      provider,
      to: '2024-06-12',
      historyDays: 200,
      symbols: ['NVDA'],
      since: '2024-06-10',
      calendarSymbol: 'SPY',
    });
    assert.equal(r.revised[0]!.revision.returnsFrom, '2024-06-10');
    assert.equal(r.revised[0]!.revision.betas, 22, 'the 11 betas of 11 and 12 June');
    assert.notEqual(await marketBeta('2024-06-07'), undefined, 'betas before the changed return stay');
    assert.equal(await marketBeta('2024-06-12'), undefined);
    assert.equal((await t.pool.query(others)).rows[0].n, othersBefore, "other symbols' betas stay");

    const rerun = await runFactors(t.db, t.pool, { date: '2024-06-12' });
    assert.equal(rerun.symbols, 1, 'only NVDA is computed again');
    // Hand OLS of NVDA on SPY over (D − 365 days, D], from the stored (now adjusted) closes.
    const closes = async (s: string) => new Map((await stored(s)).map((x) => [x.date, x.close]));
    const [n, spy] = [await closes('NVDA'), await closes('SPY')];
    const cal = [...spy.keys()];
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 1; i < cal.length; i++) {
      xs.push(spy.get(cal[i]!)! / spy.get(cal[i - 1]!)! - 1);
      ys.push(n.get(cal[i]!)! / n.get(cal[i - 1]!)! - 1);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const [mx, my] = [mean(xs), mean(ys)];
    const slope =
      xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
    const fresh = (await marketBeta('2024-06-12'))!;
    assert.ok(Math.abs(fresh - slope) < 1e-9 * Math.abs(slope), `beta ${fresh} vs hand OLS ${slope}`);
    assert.ok(Math.abs(fresh - staleBeta) > 0.1, `the stale beta ${staleBeta} was replaced`);
  });
});

describe('the file provider takes the same path', () => {
  it("a folder's files obey the importer's rules, one symbol failing alone; a restated close is a revision", async () => {
    const dir = scratchDir();
    const spy = serviceBars(world, 'SPY', '2024-06-03', '2024-06-07', '2024-06-07');
    writeLines(dir, 'SPY.csv', ['date,close', ...spy.map((b) => `${b.date},${b.raw}`)]);
    writeLines(dir, 'NVDA.csv', ['date,close', '2024-06-03,1148.01338', '2024-06-04,0']);
    const config = { ...loadConfig({}), marketDataProvider: 'file', marketDataPath: dir };
    const r = await fetchPrices(t.pool, {
      provider: createProvider(config),
      to: '9999-12-31',
      historyDays: 400,
      calendarSymbol: 'SPY',
    });
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0]!.symbol, 'NVDA');
    assert.match(r.failures[0]!.reason, /NVDA\.csv:3: column "close": must not be zero, got "0"/);
    assert.equal((await stored('SPY')).length, 5);
    assert.equal((await stored('NVDA')).length, 0);

    writeLines(dir, 'SPY.csv', [
      'date,close',
      ...spy.map((b) => `${b.date},${b.date === '2024-06-05' ? 520 : b.raw}`),
    ]);
    const again = await fetchPrices(t.pool, {
      provider: createProvider(config),
      to: '9999-12-31',
      historyDays: 400,
      calendarSymbol: 'SPY',
    });
    assert.deepEqual(
      again.revised.map((x) => [x.symbol, x.revision.firstChanged, x.revision.returnsFrom, x.rows]),
      [['SPY', '2024-06-05', '2024-06-05', 1]],
    );
    assert.equal((await stored('SPY')).find((x) => x.date === '2024-06-05')!.close, 520);
  });
});

describe('the fetch prices command', () => {
  const cli = path.resolve('bin/factor-universe.js');
  const run = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [cli, ...args], {
      env: { ...process.env, DATABASE_URL: t.url, ...env },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('prints a line per symbol off a terminal, a summary, and exits 1 on a partial success', async () => {
    const dir = scratchDir();
    writeLines(dir, 'SPY.csv', ['date,close', '2024-06-03,513.936096', '2024-06-04,514.51062']);
    writeLines(dir, 'BAD.csv', ['date,close', '2024-06-03,-1']);
    const r = await run(['fetch', 'prices'], { FU_MARKET_DATA_PATH: dir, FU_MARKET_DATA_PROVIDER: 'file' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^\d+\/\d+ SPY: 2 new rows$/m);
    assert.match(r.stderr, /BAD: failed: BAD\.csv: rejected, nothing imported/);
    assert.match(
      r.stdout,
      /file: \d+ symbols in .* s: 1 with new prices, 0 histories replaced, .* 1 failed; 2 rows written \(partial success/,
    );
  });

  it('a wrong option is a usage error (exit 2)', async () => {
    const r = await run(['fetch', 'prices', '--provider', 'bloomberg'], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--provider must be one of file, yahoo, tiingo, got "bloomberg"/);
  });
});

describe('company profiles', () => {
  it('are written from the provider, keep what it lacks, and a failing symbol fails alone', async () => {
    await t.pool.query(
      "INSERT INTO company_profiles (symbol, company_name, sector, pb_ratio) VALUES ('NVDA', 'old name', 'old sector', 1.5), ('AAPL', 'Apple Inc.', 'Technology', 40)",
    );
    const svc = fakeServices(world, {
      asOf: '2024-06-14',
      override: (url) =>
        url.pathname.endsWith('/quoteSummary/AAPL')
          ? new Response('gateway timeout', { status: 504 })
          : undefined,
    });
    const r = await fetchProfiles(t.pool, {
      provider: yahooProvider(svc.fetch, { ...FAST, retries: 0 }),
      asOf: '2024-06-14',
      symbols: ['NVDA', 'AAPL', 'SPY'],
    });
    assert.equal(r.funds, 1, 'SPY is a fund: no company profile');
    assert.deepEqual(r.failures, [
      {
        symbol: 'AAPL',
        reason: 'HTTP 504 from query2.finance.yahoo.com/v10/finance/quoteSummary/AAPL (after 1 attempt)',
      },
    ]);
    const rows = await t.pool.query(
      'SELECT symbol, company_name, sector, industry, market_cap, market_cap_date::text, pe_ratio, ps_ratio, pb_ratio FROM company_profiles ORDER BY symbol',
    );
    assert.deepEqual(rows.rows, [
      {
        symbol: 'AAPL',
        company_name: 'Apple Inc.',
        sector: 'Technology',
        industry: null,
        market_cap: null,
        market_cap_date: null,
        pe_ratio: null,
        ps_ratio: null,
        pb_ratio: 40,
      },
      {
        symbol: 'NVDA',
        company_name: 'NVIDIA Corporation',
        sector: 'Technology',
        industry: 'Semiconductors',
        market_cap: 3.244e12,
        market_cap_date: '2024-06-14',
        pe_ratio: 76.2,
        ps_ratio: 40.4,
        pb_ratio: 65.5,
      },
    ]);
    const failures = await t.pool.query('SELECT kind, symbol FROM market_data_fetch_failures');
    assert.deepEqual(failures.rows, [{ kind: 'profiles', symbol: 'AAPL' }]);
  });
});
