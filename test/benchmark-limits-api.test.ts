import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/api/server.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { importPortfolio } from '../src/imports/portfolio.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { runPortfolios } from '../src/portfolios/run.ts';
import { createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

/**
 * Benchmarks, active numbers, limits and breaches through the API and the pipeline
 * (METHODOLOGY.md 15), on the demo market. Expected values come from other stored figures:
 * the portfolios' own exposures and daily returns, SPY's betas and closes, and the §10 tracking
 * error to SPY that the risk report computes on its own.
 */
const P = '2026-10-29';
const D = '2026-10-30';
let t: TestDb;
let app: FastifyInstance;
let base: string;
let demo: string;
let other: string;
let alpha: number;
let beta: number;
let foreign: number;
const config = loadConfig({});

async function call(
  path: string,
  token: string,
  init: RequestInit = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const send = (method: string, path: string, token: string, body: unknown) =>
  call(path, token, { method, body: JSON.stringify(body) });
const login = async (username: string, password: string) =>
  (await (
    await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    })
  ).json()) as { token: string };
const near = (a: number | null | undefined, b: number, tol = 1e-9) =>
  assert.ok(
    a !== null && a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
    `${a} ≠ ${b}`,
  );
const history = async (id: number) =>
  (await call(`/api/v1/portfolios/${id}/exposures/history?from=${P}&to=${D}`, demo)).body;
const force = (from: string, to: string) =>
  runPipeline(t, config, { from, to, kind: 'backfill', force: true });

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  await createUser(t.db, { username: 'other', password: 'other-password' });
  const stocks: string[] = (
    await t.pool.query('SELECT symbol FROM company_profiles ORDER BY symbol LIMIT 5')
  ).rows.map((r: { symbol: string }) => r.symbol);
  const dir = scratchDir();
  const book = async (name: string, owner: string, lines: string[]) =>
    (
      await importPortfolio(
        t.pool,
        writeLines(dir, `${name}.csv`, ['symbol,position_type,quantity', ...lines]),
        {
          name,
          owner,
          equity: 1e5,
        },
      )
    ).portfolioId;
  alpha = await book('Alpha', 'demo', [
    `${stocks[0]},LONG,300`,
    `${stocks[1]},LONG,200`,
    `${stocks[2]},SHORT,-100`,
  ]);
  beta = await book('Beta', 'demo', [`${stocks[3]},LONG,250`, `${stocks[4]},LONG,150`]);
  foreign = await book('Theirs', 'other', [`${stocks[0]},LONG,10`]);
  await runPipeline(t, config, { from: P, to: D, kind: 'backfill' });
  app = await buildServer({
    db: t.db,
    pool: t.pool,
    config,
    secret: 'test-secret-of-enough-length-0123456789',
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  demo = (await login('demo', 'demo-password')).token;
  other = (await login('other', 'other-password')).token;
});
after(async () => {
  await app?.close();
  await t?.close();
});

describe('a symbol benchmark (the default, SPY)', () => {
  it('the portfolio carries its benchmark', async () => {
    const r = await call(`/api/v1/portfolios/${alpha}`, demo);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.benchmark, { symbol: 'SPY', default: true });
  });
  it('active exposures = exposures − SPY betas; active return = daily return − SPY return; TE = the §10 one', async () => {
    const h = await history(alpha);
    assert.deepEqual(
      h.rows.map((r: { date: string }) => r.date),
      [P, D],
    );
    const row = h.rows[1];
    const spy = new Map(
      (
        await t.pool.query(
          `SELECT f.name, e.beta FROM symbol_factor_exposures e JOIN factor_definitions f ON f.id = e.factor_id
            WHERE e.symbol = 'SPY' AND e.calculation_date = $1`,
          [D],
        )
      ).rows.map((r: { name: string; beta: number }) => [r.name, r.beta]),
    );
    assert.equal(Object.keys(row.exposures).length, 11, 'the 11 factors of factor_definitions');
    for (const [f, x] of Object.entries(row.exposures) as [string, number][])
      near(row.active_exposures[f], x - spy.get(f)!);
    const c = async (d: string) =>
      (await t.pool.query(`SELECT close FROM market_data_cache WHERE symbol = 'SPY' AND date = $1`, [d]))
        .rows[0].close as number;
    const snap = (
      await t.pool.query(
        'SELECT daily_return FROM portfolio_snapshots WHERE portfolio_id = $1 AND snapshot_date = $2',
        [alpha, D],
      )
    ).rows[0].daily_return as number;
    near(row.active_return, snap - ((await c(D)) / (await c(P)) - 1));
    const te = (
      await t.pool.query(
        'SELECT tracking_error FROM portfolio_risk WHERE portfolio_id = $1 AND calculation_date = $2',
        [alpha, D],
      )
    ).rows[0].tracking_error as number;
    near(row.tracking_error, te);
  });
});

describe('a portfolio benchmark', () => {
  it("another user's portfolio is 404; an unknown symbol is 400; a cycle is 400 naming its portfolios", async () => {
    assert.equal(
      (await send('PATCH', `/api/v1/portfolios/${alpha}`, demo, { benchmark: { portfolio_id: foreign } }))
        .status,
      404,
    );
    assert.equal(
      (await send('PATCH', `/api/v1/portfolios/${foreign}`, demo, { benchmark: { symbol: 'SPY' } })).status,
      404,
    );
    const bad = await send('PATCH', `/api/v1/portfolios/${alpha}`, demo, { benchmark: { symbol: 'NOSUCH' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /NOSUCH/);
    const ok = await send('PATCH', `/api/v1/portfolios/${beta}`, demo, {
      benchmark: { portfolio_id: alpha },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.benchmark, { portfolio_id: alpha });
    const cycle = await send('PATCH', `/api/v1/portfolios/${alpha}`, demo, {
      benchmark: { portfolio_id: beta },
    });
    assert.equal(cycle.status, 400);
    assert.match(cycle.body.message, new RegExp(`${alpha} → ${beta} → ${alpha}`));
    assert.equal(
      (await send('PATCH', `/api/v1/portfolios/${alpha}`, demo, { benchmark: { portfolio_id: alpha } }))
        .status,
      400,
    );
    assert.deepEqual((await call(`/api/v1/portfolios/${alpha}`, demo)).body.benchmark, {
      symbol: 'SPY',
      default: true,
    });
  });
  it('after a forced run: active = Beta − Alpha, exposures and daily returns', async () => {
    await force(D, D);
    const b = (await history(beta)).rows.find((r: { date: string }) => r.date === D);
    const a = (await history(alpha)).rows.find((r: { date: string }) => r.date === D);
    for (const f of Object.keys(b.exposures)) near(b.active_exposures[f], b.exposures[f] - a.exposures[f]);
    const r = async (id: number) =>
      (
        await t.pool.query(
          'SELECT daily_return FROM portfolio_snapshots WHERE portfolio_id = $1 AND snapshot_date = $2',
          [id, D],
        )
      ).rows[0].daily_return as number;
    near(b.active_return, (await r(beta)) - (await r(alpha)));
    assert.ok(b.tracking_error > 0);
    // P was computed before the benchmark changed and is not recomputed
    const bp = (await history(beta)).rows.find((r: { date: string }) => r.date === P);
    assert.notEqual(bp.active_exposures.Value, bp.exposures.Value - a.exposures.Value);
  });
});

describe('limits and breaches', () => {
  let limitId: number;
  let xP: number;
  let xD: number;
  it('validation: 400 naming the field; 404 for another user', async () => {
    const noFactor = await send('POST', `/api/v1/portfolios/${alpha}/limits`, demo, {
      name: 'n',
      metric: 'exposure',
      upper: 1,
    });
    assert.equal(noFactor.status, 400);
    assert.match(noFactor.body.message, /factor/);
    const order = await send('POST', `/api/v1/portfolios/${alpha}/limits`, demo, {
      name: 'n',
      metric: 'total_risk',
      lower: 2,
      upper: 1,
    });
    assert.equal(order.status, 400);
    const none = await send('POST', `/api/v1/portfolios/${alpha}/limits`, demo, {
      name: 'n',
      metric: 'total_risk',
    });
    assert.equal(none.status, 400);
    assert.equal((await call(`/api/v1/portfolios/${alpha}/limits`, other)).status, 404);
    assert.equal(
      (
        await send('POST', `/api/v1/portfolios/${alpha}/limits`, other, {
          name: 'n',
          metric: 'total_risk',
          upper: 1,
        })
      ).status,
      404,
    );
  });
  it('a limit breached on one day and not the next gives exactly one breach row', async () => {
    const h = await history(alpha);
    xP = h.rows[0].exposures.Value;
    xD = h.rows[1].exposures.Value;
    assert.notEqual(xP, xD);
    const mid = (xP + xD) / 2;
    // the bound between the two days' exposures, on the side that P breaks
    const bound = xP > xD ? { upper: mid } : { lower: mid };
    const created = await send('POST', `/api/v1/portfolios/${alpha}/limits`, demo, {
      name: 'Value band',
      metric: 'exposure',
      factor: 'Value',
      ...bound,
    });
    assert.equal(created.status, 201);
    limitId = created.body.id;
    assert.equal(created.body.factor, 'Value');
    // a second limit nothing breaches
    await send('POST', `/api/v1/portfolios/${alpha}/limits`, demo, {
      name: 'Wide',
      metric: 'max_position_weight',
      upper: 100,
    });
    await force(P, D);
    const b = await call(`/api/v1/portfolios/${alpha}/breaches?from=${P}&to=${D}`, demo);
    assert.equal(b.status, 200);
    assert.equal(b.body.total, 1);
    assert.deepEqual(b.body.breaches, [
      {
        limit_id: limitId,
        name: 'Value band',
        date: P,
        value: xP,
        lower: bound.lower ?? null,
        upper: bound.upper ?? null,
      },
    ]);
    await force(P, P);
    assert.equal(
      (await call(`/api/v1/portfolios/${alpha}/breaches?from=${P}&to=${D}`, demo)).body.total,
      1,
      'once per (limit, date)',
    );
  });
  it('editing a limit recomputes nothing in the past until the day is run again with force', async () => {
    const put = await send('PUT', `/api/v1/portfolios/${alpha}/limits/${limitId}`, demo, {
      name: 'Value band',
      metric: 'exposure',
      factor: 'Value',
      upper: Math.min(xP, xD) - 1,
    });
    assert.equal(put.status, 200);
    const before = await call(`/api/v1/portfolios/${alpha}/breaches?from=${P}&to=${D}`, demo);
    assert.equal(before.body.total, 1);
    await force(D, D);
    const afterRun = await call(`/api/v1/portfolios/${alpha}/breaches?from=${P}&to=${D}`, demo);
    assert.deepEqual(
      afterRun.body.breaches.map((b: { date: string; upper: number | null }) => [b.date, b.upper]),
      [
        [D, Math.min(xP, xD) - 1],
        [P, xP > xD ? (xP + xD) / 2 : null],
      ],
      'D has the new bound, P keeps the one it was found with',
    );
  });
  it("what-if lists which of a portfolio's limits a proposed book would breach", async () => {
    const body = (portfolio_id: number) =>
      JSON.stringify({
        positions: [{ symbol: 'SPY', position_type: 'LONG', quantity: 100 }],
        equity: 1e5,
        date: D,
        portfolio_id,
      });
    const r = await call('/api/v1/analytics/what-if', demo, { method: 'POST', body: body(alpha) });
    assert.equal(r.status, 200);
    // SPY at weight 100 × C / 1e5 against its own benchmark SPY: Value exposure = that weight × β_SPY,Value
    const w = r.body.positions[0].weight;
    const value = r.body.exposures.find((e: { factor: string }) => e.factor === 'Value').exposure;
    const band = r.body.limits.find((l: { id: number }) => l.id === limitId);
    near(band.value, value);
    assert.equal(band.breached, value > Math.min(xP, xD) - 1);
    const wide = r.body.limits.find((l: { name: string }) => l.name === 'Wide');
    near(wide.value, Math.abs(w));
    assert.equal(wide.breached, false);
    assert.equal(
      (await call('/api/v1/analytics/what-if', demo, { method: 'POST', body: body(foreign) })).status,
      404,
    );
  });
  it('lists are bounded: a page, a maximum and the total', async () => {
    const page = await call(`/api/v1/portfolios/${alpha}/limits?limit=1`, demo);
    assert.equal(page.body.limits.length, 1);
    assert.equal(page.body.total, 2);
    assert.equal((await call(`/api/v1/portfolios/${alpha}/limits?limit=100000`, demo)).status, 400);
    assert.equal((await call(`/api/v1/portfolios/${alpha}/breaches?limit=100000`, demo)).status, 400);
  });
  it('the reports read back: the workbook (exceljs) and the PDF text (pdftotext) carry the API figures', async () => {
    const [risk, v, stress] = await Promise.all([
      call(`/api/v1/portfolios/${alpha}/risk?date=${D}`, demo),
      call(`/api/v1/portfolios/${alpha}/var?date=${D}`, demo),
      call(`/api/v1/portfolios/${alpha}/stress-tests?date=${D}`, demo),
    ]);
    const h = (await history(alpha)).rows[1];
    const x = await fetch(`${base}/api/v1/portfolios/${alpha}/report.xlsx?date=${D}`, {
      headers: { authorization: `Bearer ${demo}` },
    });
    assert.equal(x.status, 200);
    assert.match(x.headers.get('content-type') ?? '', /spreadsheetml/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await x.arrayBuffer());
    const summary = new Map<string, unknown>();
    wb.getWorksheet('Summary')!.eachRow((r) => summary.set(String(r.getCell(1).value), r.getCell(2).value));
    assert.equal(summary.get('Date'), D);
    assert.equal(summary.get('Total risk'), risk.body.total_risk, 'a number, not text');
    assert.equal(summary.get('Tracking error'), h.tracking_error);
    assert.equal(wb.getWorksheet('Summary')!.getRow(8).getCell(2).numFmt, '0.00%');
    const varRows = wb.getWorksheet('VaR')!.getRow(2);
    assert.equal(varRows.getCell(1).value, 'parametric');
    assert.equal(varRows.getCell(2).value, v.body.parametric.var_95);
    const exp = new Map<string, [unknown, unknown]>();
    wb.getWorksheet('Exposures')!.eachRow((r, i) => {
      if (i > 1) exp.set(String(r.getCell(1).value), [r.getCell(2).value, r.getCell(3).value]);
    });
    assert.deepEqual(exp.get('Value'), [h.exposures.Value, h.active_exposures.Value]);
    const breachSheet = wb.getWorksheet('Breaches')!;
    assert.equal(breachSheet.rowCount, 3, 'header and the two breaches of the 30 days');
    assert.equal(breachSheet.getRow(2).getCell(3).value, xD);
    const stressRows = wb.getWorksheet('Stress tests')!.rowCount - 1;
    assert.equal(stressRows, stress.body.length, 'one row per scenario');
    assert.ok(stress.body.length > 0);

    const p = await fetch(`${base}/api/v1/portfolios/${alpha}/report.pdf?date=${D}`, {
      headers: { authorization: `Bearer ${demo}` },
    });
    assert.equal(p.status, 200);
    assert.equal(p.headers.get('content-type'), 'application/pdf');
    const dir = mkdtempSync(path.join(tmpdir(), 'fu-report-'));
    try {
      const file = path.join(dir, 'r.pdf');
      writeFileSync(file, Buffer.from(await p.arrayBuffer()));
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
      assert.ok(pages >= 1 && pages <= 2, `${pages} pages`);
      assert.match(text, /Risk report: Alpha/);
      assert.match(text, new RegExp(`As of ${D}`));
      // the figures as the report prints them, from the API's numbers
      const pct = (n: number) => `${(n * 100).toFixed(2)}%`;
      const money = (n: number) =>
        n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      assert.ok(text.includes(pct(risk.body.total_risk)), `total risk ${pct(risk.body.total_risk)}`);
      assert.ok(text.includes(pct(h.tracking_error)), 'tracking error');
      assert.ok(text.includes(money(v.body.parametric.var_95)), 'parametric VaR 95%');
      assert.ok(text.includes(money(v.body.historical.var_99)), 'historical VaR 99%');
      assert.match(text, /Value band/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal((await call(`/api/v1/portfolios/${alpha}/report.pdf`, other)).status, 404);
  });
  it('breach badges count the newest date; deleting a limit deletes its breaches', async () => {
    const counts = await call('/api/v1/portfolios/breach-counts', demo);
    const mine = counts.body.portfolios.find((p: { portfolio_id: number }) => p.portfolio_id === alpha);
    assert.deepEqual(mine, { portfolio_id: alpha, date: D, breaches: 1 });
    assert.ok(!counts.body.portfolios.some((p: { portfolio_id: number }) => p.portfolio_id === foreign));
    assert.equal(
      (await call(`/api/v1/portfolios/${alpha}/limits/${limitId}`, demo, { method: 'DELETE' })).status,
      204,
    );
    assert.equal((await call(`/api/v1/portfolios/${alpha}/breaches?from=${P}&to=${D}`, demo)).body.total, 0);
    assert.equal(
      (await call(`/api/v1/portfolios/${alpha}/limits/${limitId}`, demo, { method: 'DELETE' })).status,
      404,
    );
  });
});

describe('the portfolio stage without the active numbers (how bench:limits measures them)', () => {
  it('runs with risk on and active numbers off, and leaves the risk figures as they were', async () => {
    // the risk read once spread a benchmark list that is absent when active numbers are off
    const risk = async () =>
      (
        await t.pool.query(
          `SELECT portfolio_id, total_risk FROM portfolio_risk WHERE calculation_date = $1 ORDER BY portfolio_id`,
          [D],
        )
      ).rows;
    const before = await risk();
    assert.ok(before.length > 0);
    const r = await runPortfolios(t.db, t.pool, { date: D, withActive: false });
    assert.deepEqual(r.failures, []);
    assert.deepEqual(await risk(), before);
  });
});

describe('the PDF with many limits and breaches', () => {
  it('stays on one or two pages (pdfinfo), listing breaches once per limit', async () => {
    // fourteen limits every day breaks, and both days computed again: 28 breach rows
    for (let i = 1; i <= 14; i++)
      assert.equal(
        (
          await send('POST', `/api/v1/portfolios/${alpha}/limits`, demo, {
            name: `Cap ${i}`,
            metric: 'total_risk',
            upper: 0.0001 * i,
          })
        ).status,
        201,
      );
    await force(P, D);
    const all = await call(`/api/v1/portfolios/${alpha}/breaches?from=${P}&to=${D}`, demo);
    assert.equal(all.body.total, 28);
    const res = await fetch(`${base}/api/v1/portfolios/${alpha}/report.pdf?date=${D}`, {
      headers: { authorization: `Bearer ${demo}` },
    });
    assert.equal(res.status, 200);
    const dir = mkdtempSync(path.join(tmpdir(), 'fu-pdf-'));
    try {
      const file = path.join(dir, 'r.pdf');
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
      assert.ok(pages >= 1 && pages <= 2, `${pages} pages`);
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      // twelve limits and twelve breach lines shown (of 14 or more), the others counted
      assert.equal(text.match(/… and \d+ more \(see the workbook\)/g)?.length, 2);
      assert.match(text, /Cap 1 +0\.\d{4} +n\/a +0\.0001 +BREACHED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
