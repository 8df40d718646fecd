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
import { createUser } from '../src/users/users.ts';
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

const usd = (x: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 }).format(x);
const usd2 = (x: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2 }).format(x);
const pct2 = (x: number) => `${(x * 100).toFixed(2).replace(/^-(0\.00)$/, '$1')}%`;
async function portfolioNamed(name: string): Promise<number> {
  const all = (await api('/portfolios')).portfolios as { id: number; name: string }[];
  return all.find((p) => p.name === name)!.id;
}
/** The cells of a table's body, by column header label (what a reader matches by eye). */
async function tableRows(p: Page, label: string): Promise<Record<string, string>[]> {
  const table = p.locator(`table[aria-label="${label}"]`);
  const heads = (await table.locator('thead th').allInnerTexts()).map((h) => h.replace(/[▲▼]/g, '').trim());
  const out: Record<string, string>[] = [];
  for (const row of await table.locator('tbody tr').all()) {
    const cells = await row.locator('td').allInnerTexts();
    if (cells.length !== heads.length) continue;
    out.push(Object.fromEntries(heads.map((h, i) => [h, cells[i]!.trim()])));
  }
  return out;
}

before(async () => {
  server = await startAppServer({ stocks: 40, days: 4, engine: true });
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

  it('3. option rows show their own price, premium value, delta-adjusted exposure and Greeks in named columns; the expired one apart', async () => {
    const id = await portfolioNamed('Options Overlay');
    const values = (await api(`/portfolios/${id}/positions/values`)).positions as {
      position_id: number;
      position_type: string;
      quantity: number;
      multiplier: number;
      market_value: number | null;
      exposure: number | null;
      gamma: number | null;
      status: string;
      expiration_date: string | null;
    }[];
    await page.goto(`${server.base}/portfolios/${id}`);
    await page.waitForSelector('table[aria-label=Positions] tbody tr');
    const options = values.filter((v) => v.position_type !== 'LONG' && v.position_type !== 'SHORT');
    const held = options.filter((v) => v.status === 'held');
    assert.ok(held.length >= 4, 'the overlay holds options');
    for (const v of held) {
      const row = page.locator(`table[aria-label=Positions] tr[data-position="${v.position_id}"]`);
      const cells = await row.locator('td').allInnerTexts();
      const heads = (await page.locator('table[aria-label=Positions] thead th').allInnerTexts()).map((h) =>
        h.replace(/[▲▼]/g, '').trim(),
      );
      const cell = (h: string) => cells[heads.indexOf(h)]!.trim();
      // the option's own price: premium value ÷ (contracts × multiplier), by hand
      assert.equal(
        cell('Price'),
        usd2(v.market_value! / (v.quantity * v.multiplier)),
        `price ${v.position_id}`,
      );
      assert.equal(cell('Value / premium'), usd(v.market_value!));
      assert.equal(cell('Δ-adj. exposure'), usd(v.exposure!));
      assert.notEqual(
        cell('Gamma (sh./$)'),
        '0.00',
        "gamma is shown in the position's units, not rounded away",
      );
      assert.ok(Number(cell('Gamma (sh./$)').replace(/,/g, '')) !== 0);
    }
    // the option that expired before the date is not among the held rows; it is listed apart, labelled
    const expired = options.filter((v) => v.status === 'expired');
    assert.equal(expired.length, 1);
    assert.equal(
      await page
        .locator(`table[aria-label=Positions] tr[data-position="${expired[0]!.position_id}"]`)
        .count(),
      0,
    );
    const apart = page.locator(
      `table[aria-label="Positions not held"] tr[data-position="${expired[0]!.position_id}"]`,
    );
    assert.match(await apart.innerText(), /expired/);
    assert.match(await apart.innerText(), new RegExp(expired[0]!.expiration_date!));
  });

  it('4. risk contributions: one unit (share of risk) with an axis title; options labelled apart from their underlying', async () => {
    const id = await portfolioNamed('Options Overlay');
    await page.goto(`${server.base}/portfolios/${id}?tab=risk`);
    await page.waitForSelector('.chart[aria-label="Risk contributions by position"][data-drawn=true]');
    const rows = await tableRows(page, 'Risk by position');
    const labels = rows.map((r) => r.Position!);
    assert.equal(new Set(labels).size, labels.length, `labels are distinct: ${labels.join(', ')}`);
    assert.ok(
      labels.some((l) => / \d+(\.\d+)? [CP] \d{4}-\d\d-\d\d$/.test(l)),
      'an option names strike, right, expiry',
    );
    // shares of risk add up to 100% (within the rounding of the shown figures)
    const shares = rows.map((r) => Number(r['Share of risk']!.replace('%', '')));
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 100) < 0.05 * rows.length + 0.1);
    // the charts' value axes are titled in the unit of their bars and labels
    for (const chart of ['Risk contributions by factor', 'Risk contributions by position'])
      assert.equal(
        await page.locator(`.chart[aria-label="${chart}"]`).getAttribute('data-axis-names'),
        'Share of total risk',
      );
  });

  it('5. what-if: bad rows clear the results, every bad row says what is wrong at once in plain words; fixing them brings risk, VaR, stress and hedges', async () => {
    await page.goto(`${server.base}/what-if`);
    await page.waitForSelector('[data-testid=what-if-results]');
    const symbol = (await api('/data/symbols?limit=1')).symbols[0].symbol as string;
    // row 3: a call with a malformed expiry; row 4: a symbol nobody knows
    await page.selectOption('select[aria-label="Type row 3"]', 'LC');
    await page.fill('input[aria-label="Underlying row 3"]', symbol);
    await page.fill('input[aria-label="Quantity row 3"]', '2');
    await page.fill('input[aria-label="Strike row 3"]', '100');
    await page.fill('input[aria-label="Expiry row 3"]', '2026-13-45');
    await page.fill('input[aria-label="Symbol row 4"]', 'NOSUCHCO');
    await page.fill('input[aria-label="Quantity row 4"]', '5');
    await page.locator('tr.row-error').nth(1).waitFor();
    assert.equal(await page.locator('tr.row-error').count(), 2, 'both bad rows at once');
    const text = await page.locator('table[aria-label=Positions]').innerText();
    assert.match(text, /Row 3: Expiry "2026-13-45" is not a date/);
    assert.match(text, /Row 4: .*unknown symbol NOSUCHCO/);
    assert.doesNotMatch(text, /must match format/);
    assert.equal(
      await page.inputValue('input[aria-label="Expiry row 3"]'),
      '2026-13-45',
      'the typed expiry stays',
    );
    assert.equal(await page.locator('[data-testid=what-if-results]').count(), 0, 'no stale results');
    await page.waitForSelector('[data-testid=what-if-blocked]');
    // fixing both rows brings the results back, with risk, VaR, stress and hedges
    await page.fill('input[aria-label="Expiry row 3"]', '2027-01-15');
    await page.fill('input[aria-label="Symbol row 4"]', symbol);
    await page.waitForSelector('[data-testid=what-if-results]');
    assert.equal(await page.locator('tr.row-error').count(), 0);
    for (const t of ['What-if risk', 'What-if VaR', 'Stress tests', 'What-if hedges'])
      assert.ok((await page.locator(`table[aria-label="${t}"] tbody tr`).count()) > 0, t);
  });

  it('7. batch: refreshes every second while a run is active; a 409 links the running run; a run asked without a date shows the trading day it ran', async () => {
    await page.goto(`${server.base}/batch`);
    await page.waitForSelector('table[aria-label=Runs] tbody tr');
    await page.click('button:has-text("Start a run")');
    const message = page.locator('[data-testid=batch-message]');
    await message.waitFor();
    const first = (await api('/batch/runs')).runs[0] as { id: string; status: string };
    assert.equal(first.status, 'queued'); // the engine is not working yet: the run waits
    // while it is active, the list is asked for every second
    let asked = 0;
    const count = (r: { url: () => string }) => {
      if (r.url().endsWith('/api/v1/batch/runs')) asked++;
    };
    page.on('request', count);
    await page.waitForTimeout(3200);
    page.off('request', count);
    assert.ok(asked >= 2, `asked ${asked} times in 3.2 s`);
    // the same (empty) date again: 409, with a link to the run under way
    await page.click('button:has-text("Start a run")');
    await page.locator('[data-testid=batch-message]', { hasText: 'already under way' }).waitFor();
    await message.locator('button').click();
    assert.equal(await page.locator('table[aria-label=Runs] tr.active').getAttribute('data-run'), first.id);
    // the workers run it: its dates are the last trading day, not today
    server.engine!.work(1);
    const row = page.locator(`table[aria-label=Runs] tr[data-run="${first.id}"]`);
    await row.locator('td', { hasText: 'completed' }).waitFor({ timeout: 60_000 });
    assert.equal((await row.locator('[data-testid=run-dates]').innerText()).trim(), server.dates.at(-1));
    assert.equal(await row.locator('progress').getAttribute('data-value'), '1');
    // the Started column is whole: its text fits its cell
    const cut = await row.locator('td.started').evaluate((td) => td.scrollWidth > td.clientWidth);
    assert.equal(cut, false);
  });

  it('7. a non-admin on the batch page asks the batch routes nothing (no 403 every few seconds)', async () => {
    await createUser(server.t.db, { username: 'viewer', password: 'viewer-password-1' });
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${server.base}/signin`);
    await p.fill('input[name=username]', 'viewer');
    await p.fill('input[name=password]', 'viewer-password-1');
    await p.click('button[type=submit]');
    await p.waitForURL(`${server.base}/`);
    let asked = 0;
    p.on('request', (r) => {
      if (r.url().includes('/api/v1/batch')) asked++;
    });
    await p.goto(`${server.base}/batch`);
    await p.waitForSelector('text=for administrators');
    await p.waitForTimeout(5500);
    assert.equal(asked, 0);
    await ctx.close();
  });

  it('9. beta history: its title says the dates it covers, its tooltip two decimals; the style betas share one R² said once; the sorted header is whole', async () => {
    const symbol = (await api('/data/symbols?limit=1')).symbols[0].symbol as string;
    await page.goto(`${server.base}/symbols/${symbol}`);
    await page.waitForSelector('.chart[aria-label$="beta history"][data-drawn=true]');
    const range = await page.locator('[data-testid=history-range]').innerText();
    assert.match(range, /^\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d$/);
    assert.doesNotMatch(await page.locator('.panel h2', { hasText: 'Beta history' }).innerText(), /1 year/);
    const detail = await api(`/data/symbols/${symbol}`);
    const style = detail.betas.filter((b: { factor: string }) =>
      ['Value', 'Growth', 'Momentum', 'Quality', 'Size', 'Low Volatility'].includes(b.factor),
    );
    assert.equal(style.length, 6);
    assert.match(
      await page.locator('[data-testid=joint-r2]').innerText(),
      new RegExp(`R² ${style[0].r_squared.toFixed(2)} \\(one regression\\)`),
    );
    // the tooltip of the beta chart prints two decimals
    const box = (await page.locator('.chart[aria-label$="beta history"] canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width - 30, box.y + box.height / 2);
    const tip = await page.waitForSelector('.chart[aria-label$="beta history"] div:has-text("Value")', {
      timeout: 5000,
    });
    assert.doesNotMatch(await tip.innerText(), /\d\.\d{5,}/);
    // the dashboard's sorted header keeps its first letter and its arrow
    await page.goto(`${server.base}/?sort=factor_momentum&order=desc`);
    await dashboardSettled();
    const th = page.locator('th[data-col="factor_momentum"]');
    const label = th.locator('.label');
    const whole = await label.evaluate((el) => el.scrollWidth <= el.clientWidth);
    const text = await label.innerText();
    assert.ok(whole || text.startsWith('M'), `header "${text}" is whole or cut at its end only`);
    assert.equal(await th.locator('.arrow').innerText(), '▼');
  });

  it('10. as-of date, sortable and exportable positions, drill-down from an exposure, performance from the snapshots', async () => {
    const id = await portfolioNamed('Long/Short Equity');
    const asOf = server.dates.at(-2)!;
    await page.goto(`${server.base}/portfolios/${id}`);
    await page.waitForSelector('table[aria-label=Positions] tbody tr');
    await page.fill('input[aria-label="As of"]', asOf);
    await page.waitForURL(new RegExp(`date=${asOf}`));
    await page.locator('.panel h2', { hasText: `valued ${asOf}` }).waitFor();
    assert.match(
      await page.locator('.panel h2', { hasText: 'Positions' }).innerText(),
      new RegExp(`valued ${asOf}`),
    );
    // sort by weight, descending: the API's rows ordered by hand
    const values = (await api(`/portfolios/${id}/positions/values?date=${asOf}`)).positions as {
      symbol: string;
      weight: number;
      status: string;
    }[];
    await page.click('table[aria-label=Positions] th[data-col=weight] button');
    const shown = (await tableRows(page, 'Positions')).map((r) => r.Position);
    const byHand = values
      .filter((v) => v.status === 'held')
      .sort((a, b) => b.weight - a.weight)
      .map((v) => v.symbol);
    assert.deepEqual(shown, byHand);
    // export: the CSV has the shown order and raw numbers
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .locator('.panel', { hasText: 'Positions valued' })
        .locator('button:has-text("Export CSV")')
        .click(),
    ]);
    const csv = await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString());
    const lines = csv.trim().split('\n');
    assert.match(lines[0]!, /^position,type,quantity,price,/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      byHand,
    );
    // drill-down: the positions behind the Market Beta exposure add up to it
    const exposures = (await api(`/portfolios/${id}/factor-exposures?date=${asOf}`)).exposures as {
      factor: string;
      exposure: number;
    }[];
    const market = exposures.find((e) => e.factor === 'Market Beta')!;
    await page.click('table[aria-label="Factor exposures"] button:has-text("Market Beta")');
    await page.waitForSelector('[data-testid=exposure-drill] tbody tr');
    assert.equal(await page.locator('[data-testid=drill-total]').innerText(), pct2(market.exposure));
    // performance: cumulative return from the snapshots' daily returns, compounded by hand
    const snaps = (await api(`/portfolios/${id}/snapshots?to=${asOf}`)).snapshots as {
      daily_return: number | null;
    }[];
    const cumulative = snaps.slice(1).reduce((g, s) => g * (1 + (s.daily_return ?? 0)), 1) - 1;
    const cell = page.locator('table[aria-label=Performance] tr[data-figure=cumulative] td').last();
    assert.equal(await cell.innerText(), pct2(cumulative));
  });

  it('9. the portfolio list shows the current equity (the newest snapshot), not the starting balance', async () => {
    await page.goto(`${server.base}/portfolios`);
    await page.waitForSelector('table[aria-label=Portfolios] tbody tr');
    const id = await portfolioNamed('Long/Short Equity');
    const snaps = (await api(`/portfolios/${id}/snapshots`)).snapshots as { equity: number }[];
    const row = page.locator('table[aria-label=Portfolios] tbody tr', { hasText: 'Long/Short Equity' });
    assert.equal(await row.locator('[data-testid=current-equity]').innerText(), usd(snaps.at(-1)!.equity));
  });

  it('9. /favicon.ico is served', async () => {
    const res = await fetch(`${server.base}/favicon.ico`);
    assert.equal(res.status, 200);
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
