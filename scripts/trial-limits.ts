/**
 * The METHODOLOGY §15 user flow tried end to end (node --import tsx scripts/trial-limits.ts demo|sp500
 * [--shots]): a throwaway embedded database, the demo market or the real S&P 500 closes of
 * ../shared/data/sp500 (read in place, never copied), the batch over the last trading days, then
 * through the HTTP API what a user does: set a benchmark, read active exposures and their history,
 * add limits, run the days again, read the breaches, download both reports (checked with pdfinfo).
 * With --shots the same app is photographed in Chromium into docs/screenshots/*-KIND.png. The two
 * reports are written to --out DIR when given (kept), else to the run's scratch folder (removed).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildServer } from '../src/api/server.ts';
import { loadConfig } from '../src/config.ts';
import { connect, ensureDatabase } from '../src/db/connection.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startThrowawayServer } from '../src/db/throwaway.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { loadModel } from '../src/factors/model.ts';
import { importCompanies } from '../src/imports/companies.ts';
import { importPortfolio } from '../src/imports/portfolio.ts';
import { importPrices } from '../src/imports/prices.ts';
import { tradingDays } from '../src/market/closes.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { createUser } from '../src/users/users.ts';

const kind = process.argv[2];
if (kind !== 'demo' && kind !== 'sp500') {
  console.error('usage: scripts/trial-limits.ts demo|sp500 [--shots] [--out DIR]');
  process.exit(2);
}
const shots = process.argv.includes('--shots');
const outAt = process.argv.indexOf('--out');
const outDir = outAt > 0 ? process.argv[outAt + 1] : undefined;
const DAYS = Number(process.env.TRIAL_DAYS ?? 30);
const SHARED = path.resolve('..', 'shared', 'data', 'sp500');
const SECRET = 'trial-secret-of-enough-length-0123456789';

const { server, done } = await startThrowawayServer('fu-trial-');
const scratch = mkdtempSync(path.join(tmpdir(), 'fu-trial-files-'));
let close: (() => Promise<void>) | undefined;
try {
  const store = connect(await ensureDatabase(server.adminUrl, 'trial'), 10);
  close = () => store.db.destroy();
  await migrateToLatest(store.db);
  let user: string;
  let password: string;
  let book: string;
  // demo: a portfolio benchmarked to another; sp500: a mega-cap book against a growth ETF
  let benchmark: { symbol: string } | { portfolio: string };
  if (kind === 'demo') {
    await loadDemoMarket(store.db, store.pool, scratch, 'demo-password', { stocks: 80 });
    [user, password] = ['demo', 'demo-password'];
    const names = (await store.pool.query<{ name: string }>('SELECT name FROM portfolios ORDER BY id')).rows;
    book = names[0]!.name;
    benchmark = { portfolio: names[1]!.name };
  } else {
    const prices = await importPrices(store.pool, path.join(SHARED, 'prices.csv.gz'));
    if (prices.failures.length) throw prices.failures[0]!;
    await importCompanies(store.pool, path.join(SHARED, 'companies.csv'));
    [user, password] = ['analyst', 'analyst-password'];
    await createUser(store.db, { username: user, password });
    book = 'Mega-cap ten';
    await importPortfolio(store.pool, 'docs/validation-book.csv', { name: book, owner: user, equity: 1e6 });
    benchmark = { symbol: 'VUG' };
  }
  const config = { ...loadConfig({}), dualWrite: false };
  const { calendarSymbol } = (await loadModel(store.db)).settings;
  const last = kind === 'sp500' ? '2024-12-31' : '9999-12-31';
  const dates = (await tradingDays(store.pool, calendarSymbol, '0001-01-01', last)).slice(-DAYS);
  const from = dates[0]!;
  const to = dates.at(-1)!;
  let t0 = performance.now();
  const run = await runPipeline(store, config, { from, to, kind: 'backfill' });
  console.log(`${kind}: batch ${from}..${to} (${dates.length} days) ${run.status} in ${s(t0)}`);

  const app = await buildServer({ db: store.db, pool: store.pool, config, secret: SECRET });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  close = async () => {
    await app.close();
    await store.db.destroy();
  };
  const token = (
    (await (
      await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, password }),
      })
    ).json()) as { token: string }
  ).token;
  const call = async (p: string, init: { method?: string; json?: unknown } = {}): Promise<Response> => {
    const res = await fetch(`${base}/api/v1${p}`, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.json !== undefined && { 'content-type': 'application/json' }),
      },
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
    if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${p}: ${res.status} ${await res.text()}`);
    return res;
  };
  const json = async <T>(p: string, init: { method?: string; json?: unknown } = {}) =>
    (await (await call(p, init)).json()) as T;

  const list = (await json<{ portfolios: { id: number; name: string }[] }>('/portfolios')).portfolios;
  const id = list.find((p) => p.name === book)!.id;
  const benchJson =
    'symbol' in benchmark
      ? { symbol: benchmark.symbol }
      : { portfolio_id: list.find((p) => p.name === benchmark.portfolio)!.id };
  await json(`/portfolios/${id}`, { method: 'PATCH', json: { benchmark: benchJson } });
  // some bounds each book keeps and some it breaks; VaR in dollars, so scaled to the book
  const limits = [
    { name: 'Value band', metric: 'exposure', factor: 'Value', lower: -0.5, upper: 0.5 },
    { name: 'Beta vs benchmark', metric: 'active_exposure', factor: 'Market Beta', lower: -0.3, upper: 0.3 },
    { name: 'Risk cap 25%', metric: 'total_risk', upper: 0.25 },
    { name: 'TE cap 7.5%', metric: 'tracking_error', upper: 0.075 },
    {
      name: 'VaR 99 hist',
      metric: 'var',
      method: 'historical',
      confidence: 0.99,
      upper: kind === 'demo' ? 1.5e5 : 4e4,
    },
    { name: 'Max weight 20%', metric: 'max_position_weight', upper: 0.2 },
  ];
  for (const l of limits) await json(`/portfolios/${id}/limits`, { json: l });
  // the benchmark and the limits apply from the next computed date: the trial recomputes them all
  t0 = performance.now();
  await runPipeline(store, config, { from, to, kind: 'backfill', force: true });
  console.log(`forced rerun with the benchmark and ${limits.length} limits in ${s(t0)}`);

  type Row = {
    date: string;
    exposures: Record<string, number | null>;
    active_exposures: Record<string, number | null>;
    tracking_error: number | null;
    active_return: number | null;
  };
  const h = await json<{ benchmark: unknown; rows: Row[] }>(`/portfolios/${id}/exposures/history`);
  const lastRow = h.rows.at(-1)!;
  console.log(`benchmark ${JSON.stringify(h.benchmark)}; history ${h.rows.length} dates`);
  const factors = Object.keys(lastRow.exposures);
  const nulls = h.rows.filter((r) => Object.values(r.active_exposures).some((v) => v === null)).length;
  console.log(`${to}: TE ${fmt(lastRow.tracking_error)}, active return ${fmt(lastRow.active_return)}`);
  for (const f of factors)
    console.log(`  ${f.padEnd(22)} ${fmt(lastRow.exposures[f])}  active ${fmt(lastRow.active_exposures[f])}`);
  console.log(`dates with a null active exposure: ${nulls}`);
  const b = await json<{ breaches: { name: string; date: string }[]; total: number }>(
    `/portfolios/${id}/breaches?limit=500`,
  );
  const byLimit = new Map<string, number>();
  for (const x of b.breaches) byLimit.set(x.name, (byLimit.get(x.name) ?? 0) + 1);
  console.log(`breaches: ${b.total} (${[...byLimit].map(([n, c]) => `${n} ${c}`).join(', ')})`);
  const states = await json<{ limits: unknown[] }>(`/portfolios/${id}/limits`);
  console.log(`limits listed: ${states.limits.length}`);

  const out = outDir ?? path.join(scratch, 'reports');
  mkdirSync(out, { recursive: true });
  for (const ext of ['pdf', 'xlsx'] as const) {
    t0 = performance.now();
    const buf = Buffer.from(await (await call(`/portfolios/${id}/report.${ext}`)).arrayBuffer());
    const file = path.join(out, `report.${ext}`);
    writeFileSync(file, buf);
    console.log(`report.${ext}: ${(buf.length / 1024).toFixed(0)} kB in ${s(t0)} → ${file}`);
  }
  const pages = /Pages:\s+(\d+)/.exec(
    execFileSync('pdfinfo', [path.join(out, 'report.pdf')], { encoding: 'utf8' }),
  );
  console.log(`PDF pages: ${pages?.[1]}`);

  if (shots) await photograph(base, token, user, password, id, kind, path.join(out, 'report.pdf'));
} catch (e) {
  // printed before the server stops (stopping it first would show only the pool's 57P01)
  console.error(e);
  process.exitCode = 1;
} finally {
  await close?.();
  await done();
  rmSync(scratch, { recursive: true, force: true });
}

function s(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
function fmt(x: number | null | undefined): string {
  return x === null || x === undefined ? 'null' : x.toFixed(4).padStart(8);
}

/** The §15 screens of the trial's app in Chromium, and the PDF's first page (pdftoppm). */
async function photograph(
  base: string,
  token: string,
  user: string,
  password: string,
  id: number,
  k: string,
  pdf: string,
) {
  const { launchBrowser } = await import('../test-web/helpers/browser.ts');
  const dir = path.resolve('docs/screenshots');
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${base}/signin`);
    await page.fill('input[name=username]', user);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/portfolios/${id}?tab=limits`);
    await page.waitForSelector('[aria-label="Exposure history"] canvas');
    await page.waitForSelector('table[aria-label=Breaches] tbody tr');
    await page.waitForTimeout(800); // the charts' entry animation
    const panel = (n: number) => page.locator('.active-panel > .panel').nth(n);
    // benchmark and active exposures (the history chart in its default, active, mode)
    await shot(page.locator('.active-panel > .panel').first(), 'limits-benchmark', panel(1));
    // the absolute exposure history
    await page.locator('.active-panel input[type=checkbox]').first().uncheck();
    await page.waitForTimeout(800);
    await panel(1).screenshot({ path: path.join(dir, `limits-history-${k}.png`) });
    // limits and the breach timeline
    await shot(panel(2), 'limits-breaches', panel(3));
    // what-if: the book's own positions against its limits
    const res = await fetch(`${base}/api/v1/portfolios/${id}/positions?limit=20`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { positions } = (await res.json()) as {
      positions?: { symbol: string; position_type: string; quantity: number }[];
    };
    const stocks = positions?.filter((p) => p.position_type === 'LONG' || p.position_type === 'SHORT') ?? [];
    const listed = (await (
      await fetch(`${base}/api/v1/portfolios`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { portfolios: { id: number; current_equity: number | null }[] };
    const equity = listed.portfolios.find((p) => p.id === id)?.current_equity;
    await page.goto(`${base}/what-if`);
    // the book at its own equity (the page's default of $1M would lever it)
    if (equity) await page.fill('input[aria-label=Equity]', String(Math.round(equity)));
    if (stocks.length) {
      await page.locator('details summary').click();
      await page.fill(
        'textarea[aria-label="Portfolio CSV"]',
        [
          'symbol,position_type,quantity',
          ...stocks.map((p) => `${p.symbol},${p.position_type},${p.quantity}`),
        ].join('\n'),
      );
      await page.click('button:has-text("Use this CSV")');
    }
    await page.selectOption('select[aria-label="Limits of portfolio"]', String(id));
    await page.waitForSelector('table[aria-label="What-if limits"] tbody tr');
    await page.screenshot({
      path: path.join(dir, `what-if-limits-${k}.png`),
      clip: { x: 0, y: 0, width: 1280, height: 720 },
    });
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      pdf,
      path.join(dir, `report-pdf-${k}`),
    ]);
    for (const n of ['limits-benchmark', 'limits-history', 'limits-breaches', 'what-if-limits', 'report-pdf'])
      console.log(
        `docs/screenshots/${n}-${k}.png ${(statSync(path.join(dir, `${n}-${k}.png`)).size / 1024).toFixed(0)} kB`,
      );
  } finally {
    await browser.close();
  }

  /** Two stacked panels in one picture: the page clipped to their union. */
  async function shot(
    top: import('playwright-core').Locator,
    name: string,
    bottom: import('playwright-core').Locator,
  ) {
    await top.scrollIntoViewIfNeeded();
    const a = (await top.boundingBox())!;
    const b = (await bottom.boundingBox())!;
    const pg = top.page();
    // at most 1,000 px: the breach table below the timeline runs to fifty rows
    await pg.screenshot({
      path: path.join(path.resolve('docs/screenshots'), `${name}-${k}.png`),
      fullPage: true,
      clip: {
        x: 0,
        y: a.y + ((await pg.evaluate('window.scrollY')) as number),
        width: 1280,
        height: Math.min(b.y + b.height - a.y, 1000),
      },
    });
  }
}
