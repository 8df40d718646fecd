/**
 * Benchmark, exposure history, limits and breaches in Chromium (METHODOLOGY §15): the portfolio list
 * shows a breach badge, the "Benchmark & limits" tab draws the history and the breach timeline and
 * adds a limit. Saves docs/screenshots/limits*.png and portfolios-breaches.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runPortfolios } from '../src/portfolios/run.ts';
import { launchBrowser, screenshotDir } from './helpers/browser.ts';
import { startAppServer } from './helpers/server.ts';

let server: Awaited<ReturnType<typeof startAppServer>>;
let browser: Browser;
let page: Page;
let token: string;
let id: number;
const shots = screenshotDir();

async function api(pathAndQuery: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${server.base}/api/v1${pathAndQuery}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  assert.ok(res.status < 300, `${pathAndQuery}: ${res.status}`);
  return res.json();
}

before(async () => {
  server = await startAppServer({ stocks: 40, days: 6 });
  const login = await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  token = ((await login.json()) as { token: string }).token;
  id = (await api('/portfolios')).portfolios[0].id;
  // a limit every date breaks, then the stage again over the dates (the breaches are stored by it)
  await api(`/portfolios/${id}/limits`, {
    method: 'POST',
    body: JSON.stringify({ name: 'Risk cap', metric: 'total_risk', upper: 0.0001 }),
  });
  for (const date of server.dates) await runPortfolios(server.t.db, server.t.pool, { date });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  await page.goto(`${server.base}/signin`);
  await page.fill('input[name=username]', 'demo');
  await page.fill('input[name=password]', 'demo-password');
  await page.click('button[type=submit]');
  await page.waitForURL(`${server.base}/`);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

it('the list shows the breach badge; the tab shows history, limits and the breach timeline', async () => {
  await page.goto(`${server.base}/portfolios`);
  const badge = page.locator('[data-testid=breach-badge]').first();
  await badge.waitFor();
  assert.match(await badge.innerText(), /^1 breach$/);
  await page.screenshot({ path: path.join(shots, 'portfolios-breaches.png') });
  await page.goto(`${server.base}/portfolios/${id}?tab=limits`);
  await page.waitForSelector(
    '[aria-label="Exposure history"][data-drawn="true"], [aria-label="Exposure history"] canvas',
  );
  await page.waitForSelector('table[aria-label=Limits] tbody tr');
  assert.match(await page.locator('[data-testid=benchmark]').innerText(), /SPY \(default\)/);
  const breaches = await api(`/portfolios/${id}/breaches`);
  assert.equal(await page.locator('table[aria-label=Breaches] tbody tr').count(), breaches.breaches.length);
  await page.fill('input[aria-label="Limit name"]', 'Value cap');
  await page.fill('input[aria-label="Upper"]', '0.5');
  await page.click('button:has-text("Add limit")');
  await page.waitForSelector('table[aria-label=Limits] tbody tr:nth-child(2)');
  assert.equal((await api(`/portfolios/${id}/limits`)).total, 2);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shots, 'limits.png'), fullPage: true });
  const pdf = page.locator('a:has-text("PDF report")');
  assert.match((await pdf.getAttribute('href')) ?? '', /report\.pdf/);
});

it('what-if lists which limits of a chosen portfolio the proposed book would breach', async () => {
  await page.goto(`${server.base}/what-if`);
  await page.waitForSelector('[data-testid=what-if-results]');
  assert.equal(await page.locator('table[aria-label="What-if limits"]').count(), 0, 'no portfolio chosen');
  await page.selectOption('select[aria-label="Limits of portfolio"]', String(id));
  await page.waitForSelector('table[aria-label="What-if limits"] tbody tr');
  // the API's answer for the page's sample book (SPY 100, IWM −50, equity 1,000,000)
  const expected = (
    await api('/analytics/what-if', {
      method: 'POST',
      body: JSON.stringify({
        positions: [
          { symbol: 'SPY', position_type: 'LONG', quantity: 100 },
          { symbol: 'IWM', position_type: 'SHORT', quantity: -50 },
        ],
        equity: 1000000,
        portfolio_id: id,
      }),
    })
  ).limits as { name: string; breached: boolean; value: number | null }[];
  const rows = page.locator('table[aria-label="What-if limits"] tbody tr');
  assert.equal(await rows.count(), expected.length);
  for (const [i, l] of expected.entries()) {
    const cells = await rows.nth(i).locator('td').allInnerTexts();
    assert.equal(cells[0], l.name);
    assert.equal(cells[4], l.breached ? 'breached' : l.value === null ? 'no value' : 'within');
  }
  assert.ok(
    expected.some((l) => l.name === 'Risk cap' && l.breached),
    'the 0.0001 risk cap is breached',
  );
  // the viewport only: the limits come first in the results (a full page is over 200 kB)
  await page.screenshot({ path: path.join(shots, 'what-if-limits.png') });
});
