/**
 * Forecast validation in a real browser (METHODOLOGY.md 14): the Risk model page and the Backtest
 * panel of a portfolio's Risk tab, against the real server on an embedded PostgreSQL with the demo
 * market backfilled over 70 trading days (enough for a 60-day rolling bias). Every figure the page
 * shows is compared with the API's answer, formatted here. Saves risk-model.png and backtest.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshotDir } from './helpers/browser.ts';
import { startAppServer } from './helpers/server.ts';

let server: Awaited<ReturnType<typeof startAppServer>>;
let browser: Browser;
let page: Page;
let token: string;
const shots = screenshotDir();

async function api(pathAndQuery: string): Promise<any> {
  const res = await fetch(`${server.base}/api/v1${pathAndQuery}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200, pathAndQuery);
  return res.json();
}
/** Waits (up to 10 s) until the element's text is exactly `want` (the page's CSP forbids string predicates). */
async function waitText(selector: string, want: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const got = await page.locator(selector).innerText();
    if (got === want) return;
    if (Date.now() > until) assert.equal(got, want, selector);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const fixed3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));

before(async () => {
  server = await startAppServer({ stocks: 40, days: 70 });
  const login = await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  token = ((await login.json()) as { token: string }).token;
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.goto(`${server.base}/`);
  await page.waitForURL(/\/signin/);
  await page.fill('input[name=username]', 'demo');
  await page.fill('input[name=password]', 'demo-password');
  await page.click('button[type=submit]');
  await page.waitForURL(`${server.base}/`);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

describe('forecast validation in Chromium', () => {
  it('the Risk model page: volatilities, correlations, each factor bias and band as the API says, both charts drawn', async () => {
    await page.click('nav a:has-text("Risk model")');
    await page.waitForURL(`${server.base}/risk-model`);
    await page.waitForSelector('table[aria-label="Factor volatility and bias"] tbody tr');
    const v = await api('/risk-model/validation');
    const m = await api('/risk-model');
    assert.equal(v.factors.length, 6);
    assert.ok(
      v.factors.every((f: any) => f.n > 0),
      'the demo backfill gives every factor usable days',
    );
    for (const [i, f] of v.factors.entries()) {
      const cells = await page
        .locator(`table[aria-label="Factor volatility and bias"] tr[data-factor="${f.factor}"] td`)
        .allInnerTexts();
      const vol = Math.sqrt(m.covariance[i][i]);
      assert.equal(cells[1], `${(vol * 100).toFixed(2)}%`, f.factor);
      assert.equal(cells[2], String(f.n), f.factor);
      assert.equal(cells[3], fixed3(f.bias), f.factor);
      assert.equal(cells[4], f.band_low === null ? '—' : `${fixed3(f.band_low)} – ${fixed3(f.band_high)}`);
      assert.match(cells[5]!, f.within_band ? /^in band$/ : f.bias > 1 ? /under-forecast/ : /over-forecast/);
    }
    // the heat map: a 6 × 6 table of correlations, ones on the diagonal
    const diagonal = await page
      .locator('table[aria-label="Factor correlations"] tbody tr')
      .evaluateAll((rows) => rows.map((r, i) => r.querySelectorAll('td')[i]?.textContent));
    assert.deepEqual(diagonal, Array(6).fill('1.00'));
    const summary = await page.locator('[data-testid=specific-summary]').innerText();
    assert.ok(summary.includes(fixed3(v.specific.median_bias)), summary);
    assert.ok(summary.includes(`${v.specific.symbols} symbols`), summary);
    await page.waitForSelector('.chart[aria-label="Factor bias against the band"][data-drawn=true]');
    await page.waitForSelector('.chart[aria-label="Rolling factor bias"][data-drawn=true]');
    await page.screenshot({ path: path.join(shots, 'risk-model.png'), fullPage: true });
  });

  it('choosing a 60-day window asks the API for it and shows its day counts', async () => {
    await page.selectOption('select[aria-label="Validation window"]', '60');
    await page.waitForURL(/window=60/);
    const v = await api('/risk-model/validation?window=60');
    const first = v.factors[0];
    const cell = `table[aria-label="Factor volatility and bias"] tr[data-factor="${first.factor}"] td:nth-child(3)`;
    await waitText(cell, String(first.n));
    assert.ok(first.n <= 60);
  });

  it("a portfolio's Backtest panel: the four tests with the API's exceptions, p-values and zones; the window selectable", async () => {
    const id = (await api('/portfolios')).portfolios[0].id as number;
    await page.goto(`${server.base}/portfolios/${id}?tab=risk`);
    await page.waitForSelector('table[aria-label="VaR backtests"] tbody tr');
    await page.waitForSelector('.chart[aria-label="Daily P&L against VaR"][data-drawn=true]');
    const v = await api(`/portfolios/${id}/validation`);
    assert.equal(v.var_backtests.length, 4);
    assert.ok(v.var_backtests[0].n > 0);
    const p = (x: number | null) => (x === null ? '—' : x < 0.0001 ? '<0.0001' : x.toFixed(4));
    for (const t of v.var_backtests) {
      const row = page.locator(
        `table[aria-label="VaR backtests"] tr[data-test="${t.method}-${t.confidence}"]`,
      );
      const cells = await row.locator('td').allInnerTexts();
      assert.equal(cells[1], String(t.n));
      assert.equal(cells[2], String(t.exceptions));
      assert.equal(cells[5], p(t.p_uc));
      assert.equal(cells[7], p(t.p_ind));
      assert.equal(cells[9], p(t.p_cc));
      assert.equal(await row.locator('.zone').getAttribute('data-zone'), t.zone);
    }
    const bias = await page.locator('[data-testid=portfolio-bias]').innerText();
    assert.ok(bias.includes(fixed3(v.bias.bias)), bias);
    await page.locator('[aria-label=Backtest]').scrollIntoViewIfNeeded();
    await page.locator('[aria-label=Backtest]').screenshot({ path: path.join(shots, 'backtest.png') });

    await page.selectOption('select[aria-label="Backtest window"]', '60');
    const short = await api(`/portfolios/${id}/validation?window=60`);
    const cell = 'table[aria-label="VaR backtests"] tr[data-test="parametric-0.95"] td:nth-child(2)';
    await waitText(cell, String(short.var_backtests[0].n));
    assert.ok(short.var_backtests[0].n <= 60);
  });
});
