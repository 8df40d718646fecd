import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ProviderHttp } from '../src/market/providers/http.ts';
import { tiingoProvider } from '../src/market/providers/tiingo.ts';
import { ProviderError, type FetchLike } from '../src/market/providers/types.ts';
import { checkBars } from '../src/market/providers/validate.ts';
import { yahooProvider } from '../src/market/providers/yahoo.ts';
import {
  fakeServices,
  FIXTURES,
  HTML_ERROR_PAGE,
  loadWorld,
  yahooChartBody,
} from './helpers/market-services.ts';

const world = loadWorld();
const POLICY = { timeoutMs: 2000, retries: 0, requestsPerSecond: 1000 };
const KEY = 'tiingo-secret-4f9a1c77e2';

/** A fetch answering from one saved body, recording the request it was asked. */
function savedBody(file: string, status = 200) {
  const asked: { url: string; headers: Record<string, string> }[] = [];
  const f: FetchLike = async (input, init) => {
    asked.push({ url: String(input), headers: Object.fromEntries(new Headers(init?.headers).entries()) });
    return new Response(readFileSync(path.join(FIXTURES, file), 'utf8'), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: f, asked };
}

describe('Yahoo adapter (yahoo-finance2 chart and quoteSummary on an injected fetch)', () => {
  it('reads the saved NVDA chart: adjusted and split-adjusted closes, the 10-for-1 split and the dividend', async () => {
    const saved = savedBody('yahoo-chart-NVDA-2024-06-03-2024-06-14.json');
    const yahoo = yahooProvider(saved.fetch, POLICY);
    const h = (await yahoo.dailyBars('NVDA', '2024-06-03', '2024-06-14'))!;
    const url = new URL(saved.asked[0]!.url);
    assert.equal(url.pathname, '/v8/finance/chart/NVDA');
    // period1 = 2024-06-03 00:00 UTC, period2 = 2024-06-15 00:00 UTC (exclusive end).
    assert.deepEqual(
      [url.searchParams.get('period1'), url.searchParams.get('period2'), url.searchParams.get('interval')],
      [String(Date.UTC(2024, 5, 3) / 1000), String(Date.UTC(2024, 5, 15) / 1000), '1d'],
    );
    assert.equal(h.bars.length, 10);
    assert.deepEqual(
      h.bars.map((b) => b.date),
      ['03', '04', '05', '06', '07', '10', '11', '12', '13', '14'].map((d) => `2024-06-${d}`),
    );
    // 2024-06-07: raw 1206.79176 / 10 (split) = 120.679176; × (1 − 0.01 / 121.579605) for the dividend.
    const june7 = h.bars[4]!;
    assert.equal(june7.close, 120.679176);
    assert.ok(Math.abs(june7.adjClose - 120.679176 * (1 - 0.01 / 121.579605)) < 1e-6);
    assert.deepEqual(h.actions, [
      { kind: 'split', date: '2024-06-10', ratio: 10 },
      { kind: 'dividend', date: '2024-06-11', amount: 0.01 },
    ]);
  });

  it('reads the saved quoteSummary into a profile (after the crumb handshake)', async () => {
    const svc = fakeServices(world, { asOf: '2024-06-14' });
    const p = await yahooProvider(svc.fetch, POLICY).profile!('NVDA');
    assert.deepEqual(
      [p.companyName, p.sector, p.industry, p.marketCap, p.peRatio, p.psRatio, p.pbRatio],
      ['NVIDIA Corporation', 'Technology', 'Semiconductors', 3.244e12, 76.2, 40.4, 65.5],
    );
    assert.ok(svc.requests.some((r) => r.url.includes('/v1/test/getcrumb')));
    assert.ok(svc.requests.at(-1)!.url.includes('crumb=fixtureCrumb1'));
  });

  it("during the session, today's live bar is not taken for a close", async () => {
    const live: FetchLike = async () => {
      const body = JSON.parse(yahooChartBody(world, 'NVDA', '2024-06-10', '2024-06-14', '2024-06-14'));
      body.chart.result[0].meta.regularMarketTime = Date.parse('2024-06-14T15:00:00Z') / 1000; // 11:00 in New York
      return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    };
    const h = (await yahooProvider(live, POLICY).dailyBars('NVDA', '2024-06-10', '2024-06-14'))!;
    assert.deepEqual(
      h.bars.map((b) => b.date),
      ['2024-06-10', '2024-06-11', '2024-06-12', '2024-06-13'],
    );
  });

  it('an unknown or delisted symbol is a readable not-found error', async () => {
    const svc = fakeServices(world, { asOf: '2024-06-14' });
    const e = await yahooProvider(svc.fetch, POLICY)
      .dailyBars('FB', '2024-06-03', '2024-06-14')
      .then(
        () => assert.fail('expected an error'),
        (x: ProviderError) => x,
      );
    assert.equal(e.kind, 'not_found');
    assert.match(e.message, /Yahoo: FB: No data found, symbol may be delisted/);
  });

  it('an HTML page where JSON belongs is a clear error, not a parse failure with the page in it', async () => {
    const svc = fakeServices(world, {
      asOf: '2024-06-14',
      override: (url) =>
        url.pathname.includes('/chart/')
          ? new Response(HTML_ERROR_PAGE, { status: 200, headers: { 'content-type': 'text/html' } })
          : undefined,
    });
    const e = await yahooProvider(svc.fetch, POLICY)
      .dailyBars('NVDA', '2024-06-03', '2024-06-14')
      .then(
        () => assert.fail('expected an error'),
        (x: ProviderError) => x,
      );
    assert.equal(
      e.message,
      'query2.finance.yahoo.com/v8/finance/chart/NVDA answered an HTML page instead of data (HTTP 200, "Yahoo! - 502 Bad Gateway")',
    );
  });
});

describe('Tiingo adapter (keyed REST)', () => {
  it('reads the saved NVDA prices: raw and adjusted closes, splitFactor and divCash as actions; key only in the header', async () => {
    const saved = savedBody('tiingo-prices-NVDA-2024-06-03-2024-06-14.json');
    const h = (await tiingoProvider(saved.fetch, KEY, POLICY).dailyBars('NVDA', '2024-06-03', '2024-06-14'))!;
    const asked = saved.asked[0]!;
    assert.equal(
      asked.url,
      'https://api.tiingo.com/tiingo/daily/nvda/prices?startDate=2024-06-03&endDate=2024-06-14&resampleFreq=daily&format=json',
    );
    assert.equal(asked.headers.authorization, `Token ${KEY}`);
    assert.ok(!asked.url.includes(KEY));
    const june7 = h.bars.find((b) => b.date === '2024-06-07')!;
    assert.equal(june7.close, 1206.79176); // raw, before the split
    assert.ok(Math.abs(june7.adjClose - 120.679176 * (1 - 0.01 / 121.579605)) < 1e-6);
    assert.deepEqual(h.actions, [
      { kind: 'split', date: '2024-06-10', ratio: 10 },
      { kind: 'dividend', date: '2024-06-11', amount: 0.01 },
    ]);
  });

  it('the key never appears in an error, even when the service echoes it back', async () => {
    const logs: string[] = [];
    const echo: FetchLike = async (_input, init) =>
      new Response(
        JSON.stringify({ detail: `Invalid token: ${new Headers(init?.headers).get('authorization')}` }),
        {
          status: 401,
          headers: { 'content-type': 'application/json' },
        },
      );
    const e = await tiingoProvider(echo, KEY, POLICY, (m) => logs.push(m))
      .dailyBars('NVDA', '2024-06-03', '2024-06-14')
      .then(
        () => assert.fail('expected an error'),
        (x: ProviderError) => x,
      );
    assert.equal(e.kind, 'auth');
    assert.equal(e.message, 'Tiingo: NVDA: Invalid token: Token *** (HTTP 401)');
    assert.ok(!JSON.stringify({ e, message: e.message, stack: e.stack, logs }).includes(KEY));
  });

  it('refuses to start without a key', () => {
    assert.throws(() => tiingoProvider(fetch, undefined, POLICY), /set FU_TIINGO_API_KEY/);
  });
});

describe('the HTTP discipline every provider shares', () => {
  const ok = () => new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } });

  it('a 429 is retried after its Retry-After; then the answer comes through', async () => {
    const waits: number[] = [];
    let calls = 0;
    const http = new ProviderHttp(
      async () =>
        ++calls === 1 ? new Response('slow down', { status: 429, headers: { 'retry-after': '2' } }) : ok(),
      { ...POLICY, concurrency: 1, retries: 3 },
      { sleep: async (ms) => void waits.push(ms), random: () => 0 },
    );
    const r = await http.fetch('https://api.example.com/x');
    assert.equal(r.status, 200);
    assert.equal(calls, 2);
    assert.deepEqual(waits, [2000]); // Retry-After (2 s) beats the first backoff (250 ms with no jitter)
  });

  it('5xx answers back off exponentially with jitter, then give up naming status and attempts', async () => {
    const waits: number[] = [];
    let calls = 0;
    const http = new ProviderHttp(
      async () => (calls++, new Response('oops', { status: 503 })),
      { ...POLICY, concurrency: 1, retries: 3, baseDelayMs: 100 },
      { sleep: async (ms) => void waits.push(ms), random: () => 1 },
    );
    await assert.rejects(http.fetch('https://api.example.com/x?token=abc'), {
      message: 'HTTP 503 from api.example.com/x (after 4 attempts)',
    });
    assert.equal(calls, 4);
    // Backoff b = 100·2^k; the wait is drawn from [b/2, b]: random() = 1 gives the top.
    assert.deepEqual(waits, [100, 200, 400]);
  });

  it('a request that never answers times out, and the timeout is retried like a 5xx', async () => {
    let calls = 0;
    const hang: FetchLike = (_input, init) =>
      new Promise((_resolve, reject) => {
        calls++;
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      });
    const http = new ProviderHttp(
      hang,
      { ...POLICY, timeoutMs: 30, concurrency: 1, retries: 1 },
      { sleep: async () => undefined },
    );
    await assert.rejects(http.fetch('https://api.example.com/slow'), {
      message: 'no answer from api.example.com/slow within 30 ms (after 2 attempts)',
    });
    assert.equal(calls, 2);
  });

  it('at most `concurrency` requests are in flight, spaced by the rate limit', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const slow: FetchLike = async () => {
      started.push(Date.now());
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return ok();
    };
    const http = new ProviderHttp(slow, {
      timeoutMs: 1000,
      retries: 0,
      concurrency: 2,
      requestsPerSecond: 50,
    });
    await Promise.all(Array.from({ length: 6 }, () => http.fetch('https://api.example.com/x')));
    assert.equal(most, 2);
    // 50 per second = one start every 20 ms: six starts span at least 100 ms (timer slack allowed).
    assert.ok(started.at(-1)! - started[0]! >= 95, `starts spanned ${started.at(-1)! - started[0]!} ms`);
  });
});

describe("bars obey the file importer's rules", () => {
  const bar = (
    date: string,
    adjClose: number,
    close: number | null = adjClose,
    volume: number | null = 1,
  ) => ({
    date,
    adjClose,
    close,
    volume,
  });
  it('names each bad day and field', () => {
    const r = checkBars([
      bar('2024-06-10', 0),
      bar('2024-06-11', -3),
      bar('2024-06-12', Number.NaN),
      bar('2024-06-13', 5, 5, -1),
      bar('2024-02-30', 5),
    ]);
    assert.deepEqual(r.bars, []);
    assert.deepEqual(r.problems, [
      '2024-06-10: close must not be zero, got 0',
      '2024-06-10: adjusted close must not be zero, got 0',
      '2024-06-11: close must be positive, got -3',
      '2024-06-11: adjusted close must be positive, got -3',
      '2024-06-12: close not a finite number',
      '2024-06-12: adjusted close not a finite number',
      '2024-06-13: volume must not be negative, got -1',
      'unparseable date "2024-02-30"',
    ]);
  });
  it('drops identical repeats, refuses differing ones, and sorts by date', () => {
    assert.deepEqual(checkBars([bar('2024-06-11', 2), bar('2024-06-10', 1), bar('2024-06-11', 2)]).bars, [
      bar('2024-06-10', 1),
      bar('2024-06-11', 2),
    ]);
    assert.deepEqual(checkBars([bar('2024-06-11', 2), bar('2024-06-11', 3)]).problems, [
      '2024-06-11: two bars with different values',
    ]);
  });
});
