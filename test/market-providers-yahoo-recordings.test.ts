/**
 * The Yahoo adapter on real recorded exchanges with Yahoo (../shared/fixtures/providers/yahoo, see
 * its README: recorded by the yahoo-finance2 project, cookies redacted), beside the hand-made bodies
 * of market-providers-adapters.test.ts: splits and dividends read as the real service sends them, a
 * London listing's pence converted to pounds, and an HTML consent page or a 307 redirect where JSON
 * was expected answered as a clear provider error (nothing returned to store). Expected values are
 * those the README states from the recordings.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ProviderError, type FetchLike } from '../src/market/providers/types.ts';
import { yahooProvider } from '../src/market/providers/yahoo.ts';

// ../shared beside the repository (a worktree under wt/ finds it one level further up)
const RECORDINGS = [path.resolve('..', 'shared'), path.resolve('..', '..', 'shared')]
  .map((d) => path.join(d, 'fixtures', 'providers', 'yahoo'))
  .find((d) => existsSync(d))!;
const POLICY = { timeoutMs: 2000, retries: 0, requestsPerSecond: 1000 };

interface Exchange {
  response: {
    status: number;
    statusText: string;
    headers: Record<string, string | string[]>;
    bodyJson?: unknown;
    bodyText?: string;
  };
}

/** A fetch answering every request with one recorded response (status, headers, body). */
function recorded(file: string): FetchLike {
  const x = JSON.parse(readFileSync(path.join(RECORDINGS, file), 'utf8')) as Exchange;
  return async () => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(x.response.headers))
      if (k !== 'set-cookie' && k !== 'content-length' && k !== 'content-encoding') headers.set(k, String(v));
    const body =
      x.response.bodyJson !== undefined ? JSON.stringify(x.response.bodyJson) : (x.response.bodyText ?? '');
    return new Response(x.response.status === 204 ? null : body, {
      status: x.response.status,
      statusText: x.response.statusText,
      headers,
    });
  };
}

describe('Yahoo adapter on recorded exchanges', () => {
  it('AAPL across its 4-for-1 split of 2020-08-31, with the dividend of 2020-11-06', async () => {
    const h = (await yahooProvider(recorded('chart-AAPL-2020-08-31-to-2020-11-07.json'), POLICY).dailyBars(
      'AAPL',
      '2020-08-31',
      '2020-11-06',
    ))!;
    assert.equal(h.bars.length, 49);
    assert.equal(h.bars[0]!.date, '2020-08-31');
    assert.equal(h.bars.at(-1)!.date, '2020-11-06');
    assert.ok(Math.abs(h.bars[0]!.close! - 129.04) < 1e-4, String(h.bars[0]!.close)); // recorded as 129.0399932…
    assert.deepEqual(h.actions, [
      { kind: 'split', date: '2020-08-31', ratio: 4 },
      { kind: 'dividend', date: '2020-11-06', amount: 0.205 },
    ]);
  });

  it("MSFT's four dividends of 2021 and NVDA's 4-for-1 split of 2021-07-20", async () => {
    const msft = (await yahooProvider(
      recorded('historical-via-chart-MSFT-dividends-2021-02-01-to-2022-01-31.csv.json'),
      POLICY,
    ).dailyBars('MSFT', '2021-02-01', '2022-01-31'))!;
    assert.equal(msft.bars.length, 252);
    assert.deepEqual(
      msft.actions.filter((a) => a.kind === 'dividend'),
      [
        { kind: 'dividend', date: '2021-02-17', amount: 0.56 },
        { kind: 'dividend', date: '2021-05-19', amount: 0.56 },
        { kind: 'dividend', date: '2021-08-18', amount: 0.56 },
        { kind: 'dividend', date: '2021-11-17', amount: 0.62 },
      ],
    );
    const nvda = (await yahooProvider(
      recorded('historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json'),
      POLICY,
    ).dailyBars('NVDA', '2021-02-01', '2022-01-31'))!;
    assert.equal(nvda.bars.length, 252);
    assert.deepEqual(nvda.actions, [{ kind: 'split', date: '2021-07-20', ratio: 4 }]);
  });

  it('a London listing quoted in pence (GBp) is stored in pounds', async () => {
    const h = (await yahooProvider(recorded('chart-OCDO.L-2020-01-01-to-2020-01-03.json'), POLICY).dailyBars(
      'OCDO.L',
      '2020-01-01',
      '2020-01-03',
    ))!;
    assert.equal(h.bars.length, 1);
    assert.equal(h.bars[0]!.date, '2020-01-02');
    assert.ok(Math.abs(h.bars[0]!.close! - 12.595) < 1e-9, String(h.bars[0]!.close));
  });

  for (const [what, file] of [
    ['an HTML consent page', 'getCrumb-quote-AAPL-collectConsent.html.json'],
    ['a 307 redirect to the consent page', 'getCrumb-quote-AAPL.json'],
  ] as const) {
    it(`${what} where a chart was expected is a clear provider error, no bars`, async () => {
      await assert.rejects(
        yahooProvider(recorded(file), POLICY).dailyBars('AAPL', '2020-01-01', '2020-01-03'),
        (e: unknown) =>
          e instanceof ProviderError &&
          /AAPL|chart/.test(e.message) &&
          /HTML page|redirect|307|consent/i.test(e.message) &&
          e.message.length < 400,
      );
    });
  }
});
