/**
 * The steps of the portfolio manager's trial (issue 21) repeated in Chromium, each against what the
 * API (or a hand count over the API's rows) says: search anywhere in symbol and name, a date with no
 * computed metrics, option rows, risk charts, what-if with bad rows, the equity curve from
 * inception, the batch page, 375 px layouts, the smaller items and the manager's missing pieces.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import path from 'node:path';
import { launchBrowser, screenshotDir } from './helpers/browser.ts';
import { startAppServer } from './helpers/server.ts';

let server: Awaited<ReturnType<typeof startAppServer>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let token: string;

async function api(pathAndQuery: string): Promise<any> {
  const res = await fetch(`${server.base}/api/v1${pathAndQuery}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200, pathAndQuery);
  return res.json();
}
const dashboardSettled = (p: Page = page) =>
  p.waitForSelector('.grid-scroll[aria-busy="false"] tbody tr[data-index="0"]:not(.placeholder)');
const rowCount = async (p: Page = page) =>
  Number((await p.locator('[data-testid=row-count]').innerText()).split(' ')[0]!.replace(/,/g, ''));

before(async () => {
  server = await startAppServer({ stocks: 40, days: 4 });
  const login = await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  token = ((await login.json()) as { token: string }).token;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const url = new URL(server.base);
  await context.addCookies([
    { name: 'fu_session', value: token, domain: url.hostname, path: '/', httpOnly: true, sameSite: 'Strict' },
  ]);
  page = await context.newPage();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

describe("the portfolio manager's trial, repeated", () => {
  it('1. search matches anywhere in the symbol or the name, in any case ("group", a symbol\'s tail in lower case)', async () => {
    const all = (await api('/data/symbols?fields=symbol,company_name&limit=500')).symbols as {
      symbol: string;
      company_name: string | null;
    }[];
    const matching = (text: string) =>
      all.filter(
        (r) => r.symbol.toLowerCase().includes(text) || (r.company_name ?? '').toLowerCase().includes(text),
      ).length;
    const withGroup = matching('group');
    assert.ok(withGroup > 0, 'the demo market has names with "Group"');
    await page.goto(`${server.base}/?q=group`);
    await dashboardSettled();
    assert.equal(await rowCount(), withGroup);
    // the last two letters of a symbol, in lower case, find it (not only symbols starting with them)
    const symbol = all.find((r) => r.symbol.length >= 3 && /^[A-Z]+$/.test(r.symbol))!.symbol;
    const tail = symbol.slice(-2).toLowerCase();
    await page.fill('input[aria-label="Search symbol or name"]', tail);
    await page.waitForURL(new RegExp(`q=${tail}`));
    await dashboardSettled();
    assert.equal(await rowCount(), matching(tail));
    const shown = await page.locator('table.grid tbody tr td:first-child').allInnerTexts();
    assert.ok(shown.includes(symbol), `${symbol} is found by "${tail}"`);
  });

  it('2. a date before every computed date says so and offers the nearest computed date', async () => {
    const first = server.dates[0]!;
    await page.goto(`${server.base}/?date=2001-03-02`);
    const empty = page.locator('[data-testid=no-metrics]');
    await empty.waitFor();
    assert.match(await empty.innerText(), /No metrics have been computed for 2001-03-02/);
    assert.match(await empty.innerText(), new RegExp(`nearest computed date is ${first}`));
    assert.doesNotMatch(await page.locator('main').innerText(), /No symbols match these filters/);
    await empty.locator('button').click();
    await page.waitForURL(new RegExp(`date=${first}`));
    await dashboardSettled();
    assert.match(await page.locator('[data-testid=metrics-date]').innerText(), new RegExp(first));
  });

  it('9. a minimum market cap above the maximum is said in words, with no stale rows beneath', async () => {
    await page.goto(`${server.base}/?min_cap=500&max_cap=10`);
    const problem = page.locator('[data-testid=filter-problem]');
    await problem.waitFor();
    assert.match(await problem.innerText(), /minimum market cap .* is above the maximum/);
    assert.equal(await page.locator('.grid-scroll').isVisible(), false);
    assert.doesNotMatch(await page.locator('main').innerText(), /querystring parameter/);
  });

  it('8. every page at 375 px fits the screen (no sideways scroll); the screenshot set, 1440 and 375 px, light and dark', async () => {
    const portfolios = (await api('/portfolios')).portfolios as { id: number; name: string }[];
    const options = portfolios.find((p) => p.name === 'Options Overlay')!;
    const symbol = (await api('/data/symbols?limit=1')).symbols[0].symbol as string;
    const pages: [string, string, string][] = [
      ['dashboard', '/', '.grid-scroll[aria-busy="false"] tbody tr[data-index="0"]:not(.placeholder)'],
      ['symbol', `/symbols/${symbol}`, '.chart[aria-label$="beta history"][data-drawn=true]'],
      ['portfolios', '/portfolios', 'table[aria-label=Portfolios] tbody tr'],
      ['portfolio', `/portfolios/${options.id}`, '.chart[aria-label="Equity curve"][data-drawn=true]'],
      ['risk', `/portfolios/${options.id}?tab=risk`, '.chart[aria-label="P&L attribution"][data-drawn=true]'],
      ['what-if', '/what-if', 'table[aria-label="Factor exposures"] tbody tr'],
      ['batch', '/batch', 'table[aria-label=Runs] tbody tr'],
    ];
    const shots = screenshotDir();
    const wide: string[] = [];
    for (const width of [1440, 375]) {
      for (const scheme of ['light', 'dark'] as const) {
        const ctx = await browser.newContext({
          viewport: { width, height: width === 375 ? 800 : 900 },
          colorScheme: scheme,
        });
        const url = new URL(server.base);
        await ctx.addCookies([
          {
            name: 'fu_session',
            value: token,
            domain: url.hostname,
            path: '/',
            httpOnly: true,
            sameSite: 'Strict',
          },
        ]);
        const p = await ctx.newPage();
        for (const [name, to, ready] of pages) {
          await p.goto(`${server.base}${to}`);
          await p.waitForSelector(ready);
          await p.waitForTimeout(150); // charts settle their labels
          if (width === 375) {
            const scrollWidth = (await p.evaluate('document.documentElement.scrollWidth')) as number;
            if (scrollWidth > 375) wide.push(`${name}: ${scrollWidth} px`);
          }
          await p.screenshot({
            path: path.join(shots, `${name}-${width}-${scheme}.png`),
            fullPage: name !== 'dashboard',
          });
        }
        await ctx.close();
      }
    }
    assert.deepEqual(wide, [], 'pages wider than a 375 px screen');
  });
});
