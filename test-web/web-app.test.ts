/**
 * The web app in a real browser (Debian's Chromium via playwright-core) against the real server on
 * an embedded PostgreSQL with the demo market. (The screenshot set is written by trial.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { handMadeJwt, launchBrowser } from './helpers/browser.ts';
import { SECRET, startAppServer } from './helpers/server.ts';

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
const firstRowSymbol = () => page.locator('table.grid tbody tr[data-index="0"] td').first().innerText();
/** Waits for the dashboard to show the answer of the view in the URL (not the previous one). */
const dashboardSettled = () =>
  page.waitForSelector('.grid-scroll[aria-busy="false"] tbody tr[data-index="0"]:not(.placeholder)');

async function signIn(p: Page) {
  await p.waitForURL(/\/signin/);
  await p.fill('input[name=username]', 'demo');
  await p.fill('input[name=password]', 'demo-password');
  await p.click('button[type=submit]');
}

before(async () => {
  server = await startAppServer({ stocks: 40, days: 4 });
  const login = await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  token = ((await login.json()) as { token: string }).token;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

describe('the web app in Chromium', () => {
  it('opening / without a session shows sign-in; signing in as demo shows the dashboard with every row count', async () => {
    await page.goto(`${server.base}/`);
    await page.waitForURL(/\/signin\?next=%2F/);
    await page.waitForSelector('form[aria-label="Sign in"]');
    await page.fill('input[name=username]', 'demo');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.signin [role=alert]');
    await signIn(page);
    await page.waitForURL(`${server.base}/`);
    assert.equal(await page.locator('[data-testid=username]').innerText(), 'demo');
    await dashboardSettled();
    const all = await api('/data/symbols?limit=1');
    assert.equal(
      await page
        .locator('[data-testid=row-count]')
        .innerText()
        .then((s) => s.split(' ')[0]),
      String(all.total_count),
    );
    // the token is in an httpOnly cookie: no script can read it
    assert.equal(await page.evaluate('document.cookie'), '');
    const cookie = (await context.cookies()).find((c) => c.name === 'fu_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
  });

  it('sorting by the market beta, descending, shows first the symbol the API names for that query', async () => {
    await page.click('th[data-col="factor_market_beta"] button');
    await page.waitForURL(/sort=factor_market_beta&order=desc/);
    await dashboardSettled();
    const expected = await api('/data/symbols?sort_by=factor_market_beta&sort_order=desc&limit=1');
    assert.equal(await firstRowSymbol(), expected.symbols[0].symbol);
    assert.equal(
      await page.locator('th[data-col="factor_market_beta"]').getAttribute('aria-sort'),
      'descending',
    );
    // a second click sorts ascending: the API's first row for ascending order
    await page.click('th[data-col="factor_market_beta"] button');
    await page.waitForURL(/order=asc/);
    await dashboardSettled();
    const asc = await api('/data/symbols?sort_by=factor_market_beta&sort_order=asc&limit=1');
    assert.equal(await firstRowSymbol(), asc.symbols[0].symbol);
    // the back button returns to the descending view
    await page.goBack();
    await page.waitForURL(/order=desc/);
    await dashboardSettled();
    assert.equal(await firstRowSymbol(), expected.symbols[0].symbol);
    // hiding two column groups drops their columns; the betas come into view, colored by sign and size
    const before = await page.locator('table.grid thead th').count();
    await page.click('label.chip:has-text("Profile") input');
    await page.click('label.chip:has-text("Price & returns") input');
    await page.waitForURL(/hide=profile(%2C|,)returns/);
    await dashboardSettled();
    assert.equal(await page.locator('table.grid thead th').count(), before - 9);
    const background = await page
      .locator('tbody tr[data-index="0"] td')
      .nth(7)
      .evaluate((td) => td.getAttribute('style'));
    assert.match(background ?? '', /background: rgba\(37, 99, 235/); // the highest market beta is positive: blue
    await page.locator('.grid-scroll').evaluate((el) => (el.scrollLeft = 0));
    await page.goBack();
    await page.goBack();
    await dashboardSettled();
  });

  it('a sector filter shows only that sector, as many rows as the API counts; keyboard moves the active row', async () => {
    const sector = (await api('/data/symbols?sort_by=symbol&sort_order=asc&limit=1')).symbols[0]
      .sector as string;
    await page.selectOption('select[aria-label=Sector]', sector);
    await page.waitForURL(new RegExp(`sector=${encodeURIComponent(sector).replace(/%20/g, '(%20|\\+)')}`));
    await dashboardSettled();
    const expected = await api(`/data/symbols?sector=${encodeURIComponent(sector)}&limit=500`);
    const sectors = await page.locator('table.grid tbody tr td:nth-child(3)').allInnerTexts();
    assert.ok(sectors.length > 0);
    assert.deepEqual(new Set(sectors), new Set([sector]));
    assert.equal(sectors.length, expected.total_count);
    assert.match(
      await page.locator('[data-testid=row-count]').innerText(),
      new RegExp(`^${expected.total_count} symbols`),
    );
    await page.focus('.grid-scroll');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('tbody tr[aria-selected=true]').getAttribute('data-index'), '1');
  });

  it('a symbol page draws its price and beta-history charts and lists the betas with R²', async () => {
    const symbol = await firstRowSymbol();
    await page.locator('table.grid tbody tr[data-index="0"] td a').click();
    await page.waitForURL(new RegExp(`/symbols/${symbol}$`));
    await page.waitForSelector('.chart[aria-label$="price"][data-drawn=true]');
    await page.waitForSelector('.chart[aria-label$="beta history"][data-drawn=true]');
    const detail = await api(`/data/symbols/${symbol}`);
    assert.equal(
      await page.locator('table[aria-label=Betas] tbody tr[data-factor]').count(),
      detail.betas.length,
    );
    assert.ok(detail.betas.length > 0);
    // the range selector asks for another range and draws again
    await page.click('button:has-text("3M")');
    await page.waitForSelector('.chart[aria-label$="price"][data-drawn=true]');
  });

  it('a portfolio page shows exposures as bars in % and $, the positions, equity and P&L charts, stress tests', async () => {
    await page.click('nav a:has-text("Portfolios")');
    await page.waitForSelector('table[aria-label=Portfolios] tbody tr');
    const portfolios = (await api('/portfolios')).portfolios;
    await page.click(`a[href="/portfolios/${portfolios[0].id}"]`);
    await page.waitForSelector('table[aria-label="Factor exposures"] tbody tr');
    const exposures = await api(`/portfolios/${portfolios[0].id}/factor-exposures`);
    assert.equal(
      await page.locator('table[aria-label="Factor exposures"] tbody tr').count(),
      exposures.exposures.length,
    );
    const positions = await api(`/portfolios/${portfolios[0].id}/positions/values`);
    assert.ok(positions.positions.length > 0);
    // the positions arrive with their own request, after the exposures: wait for them before counting
    await page.waitForSelector('table[aria-label=Positions] tbody tr');
    assert.equal(
      await page.locator('table[aria-label=Positions] tbody tr').count(),
      positions.positions.length,
    );
    await page.waitForSelector('.chart[aria-label="Equity curve"][data-drawn=true]');
    await page.waitForSelector('.chart[aria-label="Daily P&L"][data-drawn=true]');
    await page.waitForSelector('table[aria-label="Stress tests"] tbody tr');
  });

  it('the Risk tab of a portfolio draws contributions and attribution, lists VaR, stress and hedges; the URL keeps the tab', async () => {
    const id = (await api('/portfolios')).portfolios[0].id as number;
    await page.goto(`${server.base}/portfolios/${id}`);
    await page.click('[role=tab]:has-text("Risk")');
    await page.waitForURL(new RegExp(`/portfolios/${id}\\?tab=risk$`));
    await page.waitForSelector('.chart[aria-label="Risk contributions by factor"][data-drawn=true]');
    await page.waitForSelector('.chart[aria-label="Risk contributions by position"][data-drawn=true]');
    await page.waitForSelector('.chart[aria-label="P&L attribution"][data-drawn=true]');
    // the VaR table shows the API's dollars (formatted here, not by the app's code)
    const usd = (x: number) =>
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 }).format(
        x,
      );
    const vaR = await api(`/portfolios/${id}/var`);
    assert.ok(vaR.parametric.var_99 > 0 && vaR.historical.var_95 > 0);
    for (const key of ['var_95', 'es_95', 'var_99', 'es_99']) {
      const cells = await page.locator(`table[aria-label=VaR] tr[data-figure=${key}] td`).allInnerTexts();
      assert.deepEqual(cells.slice(1), [usd(vaR.parametric[key]), usd(vaR.historical[key])], key);
    }
    // one hedge row per proxy ETF, and the market hedge
    const hedges = await api(`/portfolios/${id}/hedges`);
    assert.ok(hedges.etfs.length > 0);
    assert.equal(
      await page.locator('table[aria-label=Hedges] tbody tr[data-hedge]').count(),
      hedges.etfs.length + (hedges.market_hedge ? 1 : 0),
    );
    // the attribution's default range is the snapshots' range; its total is the sum of their daily P&L
    const snapshots = (await api(`/portfolios/${id}/snapshots`)).snapshots as {
      date: string;
      daily_pnl: number | null;
    }[];
    assert.equal(await page.inputValue('input[aria-label="Attribution from"]'), snapshots[0]!.date);
    assert.equal(await page.inputValue('input[aria-label="Attribution to"]'), snapshots.at(-1)!.date);
    const attribution = await api(
      `/portfolios/${id}/attribution?from=${snapshots[0]!.date}&to=${snapshots.at(-1)!.date}`,
    );
    const sum = snapshots.reduce((s, x) => s + (x.daily_pnl ?? 0), 0);
    assert.ok(Math.abs(attribution.total_pnl - sum) < 1e-6 * Math.max(1, Math.abs(sum)));
    assert.equal(
      await page.locator('table[aria-label=Attribution] tr:last-child th').last().innerText(),
      usd(attribution.total_pnl),
    );
    // a not-applicable stress scenario shows n/a with its reason as the tooltip
    const stress = (await api(`/portfolios/${id}/stress-tests`)) as {
      scenario: string;
      pnl: number | null;
      reason?: string;
    }[];
    assert.equal(await page.locator('table[aria-label="Stress tests"] tbody tr').count(), stress.length);
    for (const s of stress.filter((x) => x.pnl === null)) {
      const row = page.locator('table[aria-label="Stress tests"] tbody tr', { hasText: s.scenario });
      assert.equal(await row.getAttribute('title'), s.reason);
      assert.equal(await row.locator('td').nth(1).innerText(), 'n/a');
    }
    // narrowing the range to its last day asks the API for that day only
    await page.fill('input[aria-label="Attribution from"]', snapshots.at(-1)!.date);
    await page.waitForURL(new RegExp(`from=${snapshots.at(-1)!.date}`));
    await page.waitForSelector('.chart[aria-label="P&L attribution"][data-drawn=true]');
    const lastDay = await api(
      `/portfolios/${id}/attribution?from=${snapshots.at(-1)!.date}&to=${snapshots.at(-1)!.date}`,
    );
    assert.equal(lastDay.days, 1);
    const totalCell = 'table[aria-label=Attribution] tr:last-child th:last-child';
    // (a locator, not a string predicate: the app's CSP forbids eval)
    await page.locator(totalCell, { hasText: usd(lastDay.total_pnl) }).waitFor();
    // the tab is in the URL: a reload stays on Risk; the back button returns to the overview
    await page.reload();
    await page.waitForSelector('[role=tab][aria-selected=true]:has-text("Risk")');
    await page.goBack();
    await page.waitForSelector('table[aria-label="Factor exposures"] tbody tr');
  });

  it('a what-if book with a bad row shows that row its error, and results for the good rows', async () => {
    await page.click('nav a:has-text("What-if")');
    await page.waitForSelector('table[aria-label="Factor exposures"] tbody tr'); // the sample book's results
    const symbol = (await api('/data/symbols?limit=1')).symbols[0].symbol as string;
    // row 3: a long call without strike or expiry — a problem only the server's rules find
    await page.fill('input[aria-label="Symbol row 3"]', '');
    await page.fill('input[aria-label="Underlying row 3"]', symbol);
    await page.selectOption('select[aria-label="Type row 3"]', 'LC');
    await page.fill('input[aria-label="Quantity row 3"]', '2');
    const error = page.locator('tr[data-error-row="2"]');
    await error.waitFor();
    assert.match(await error.innerText(), /Row 3: .*(strike|expir)/i);
    assert.equal(await page.locator('tr.row-error').count(), 1);
    // fixing the row clears its error
    await page.selectOption('select[aria-label="Type row 3"]', 'LONG');
    await page.fill('input[aria-label="Symbol row 3"]', symbol);
    await page.fill('input[aria-label="Underlying row 3"]', '');
    await page.locator('tr.row-error').waitFor({ state: 'detached' });
  });

  it('the batch page (admins) lists runs and their stages', async () => {
    await page.click('nav a:has-text("Batch")');
    await page.waitForSelector('table[aria-label=Runs] tbody tr');
    await page.locator('table[aria-label=Runs] tbody tr').first().click();
    await page.waitForSelector('table[aria-label=Stages] tbody tr');
  });

  it('is not broken at 375 px wide: the page does not scroll sideways', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 740 });
    for (const [name, url] of [
      ['dashboard-375', '/'],
      ['portfolio-375', '/portfolios'],
    ] as const) {
      await phone.goto(`${server.base}${url}`);
      await phone.waitForSelector('main section :is(table, .state.empty)');
      await phone.waitForTimeout(200);
      assert.ok(((await phone.evaluate('document.documentElement.scrollWidth')) as number) <= 376, name);
    }
    await phone.close();
  });

  it('sign out clears the session: the app and the API both refuse the next request', async () => {
    await page.click('button:has-text("Sign out")');
    await page.waitForURL(/\/signin$/);
    assert.equal(
      (await context.cookies()).find((c) => c.name === 'fu_session'),
      undefined,
    );
    await page.goto(`${server.base}/portfolios`);
    await page.waitForURL(/\/signin\?next=%2Fportfolios/);
    const status = await page.evaluate(() => fetch('/api/v1/portfolios').then((r) => r.status));
    assert.equal(status, 401);
  });

  it('an expired token leads to sign-in, then back to the page the person was on', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = handMadeJwt(SECRET, {
      sub: 1,
      username: 'demo',
      admin: true,
      iat: now - 7200,
      exp: now - 3600,
    });
    const url = new URL(server.base);
    await context.addCookies([
      {
        name: 'fu_session',
        value: expired,
        domain: url.hostname,
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
      },
    ]);
    await page.goto(`${server.base}/what-if`);
    await page.waitForURL(/\/signin\?next=%2Fwhat-if/);
    await signIn(page);
    await page.waitForURL(`${server.base}/what-if`);
    await page.waitForSelector('table[aria-label="Factor exposures"]');
  });

  it('API paths and /docs keep their JSON 404 while app routes fall back to index.html', async () => {
    const html = await fetch(`${server.base}/symbols/XYZ`, { headers: { accept: 'text/html' } });
    assert.equal(html.status, 200);
    assert.match(await html.text(), /<div id="root">/);
    const apiMiss = await fetch(`${server.base}/api/v1/nothing`, { headers: { accept: 'text/html' } });
    assert.equal(apiMiss.status, 404);
    assert.equal(((await apiMiss.json()) as { error: string }).error, 'not_found');
    const docsMiss = await fetch(`${server.base}/docs/nothing`, { headers: { accept: 'text/html' } });
    assert.equal(docsMiss.status, 404);
  });
});
