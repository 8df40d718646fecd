/**
 * API benchmark (npm run bench:api): autocannon, 50 connections for 20 s each, against
 *   GET /api/v1/data/symbols sorted by a factor with a sector filter, over a 10,000-symbol metrics table
 *     (as served, with its few-second answer cache, and with that cache off);
 *   GET /api/v1/portfolios/{id}/factor-exposures;
 *   the dashboard page (100 rows, every column, several sort columns in turn), cache off, beside
 *   PostgreSQL alone running the same SQL (pgbench -c 50, Debian postgresql-client).
 * The server is `factor-universe serve` in a process of its own (request logging on, as in
 * production), so the load generator does not share its event loop; prints p50/p99 and requests/s.
 */
import autocannon from 'autocannon';
import { runPipeline } from '../src/pipeline/submit.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../src/db/throwaway.ts';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { benchServer, scratchFolder, freshDatabase } from './harness.ts';
import { pgbenchDashboard, DASHBOARD_SORTS, dashboardPagePath } from './pgbench.ts';
import { insertBenchSymbols } from './symbols.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 20);
const { server, done } = await benchServer();
try {
  const d = await freshDatabase(server.adminUrl, 'bench_api');
  await loadDemoMarket(d.db, d.pool, scratchFolder('fu-bench-api-'), 'demo-password', {
    stocks: 40,
  });
  const config = { ...loadConfig({}), dualWrite: false };
  const date = '2026-10-30';
  await runPipeline(d, config, { from: date, to: date, kind: 'run' });
  await insertBenchSymbols(d.pool, date, 10_000);
  // a second served date of 10,000 symbols, for the memory the two latest dates take
  const previous = '2026-10-29';
  await insertBenchSymbols(d.pool, previous, 10_000);
  const url = new URL(server.adminUrl);
  url.pathname = '/bench_api';
  /** `factor-universe serve` in a child process; `env` adds settings (e.g. the answer cache off). */
  async function serve(env: Record<string, string> = {}) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [path.resolve('bin/factor-universe.js'), 'serve', '--port', String(port)],
      {
        env: {
          ...process.env,
          DATABASE_URL: url.toString(),
          FU_JWT_SECRET: '3e8a1f6c9b2d5e0a7c4f1b8e3d6a9c2f5b0e7d4a1c8f3b6e9d2a5c0f7b4e1d8a',
          ...env,
        },
        stdio: 'ignore',
      },
    );
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (
        await fetch(`${base}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 200) throw new Error('the server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const stop = async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    };
    /** the server process's resident memory (bytes), from /proc */
    const rss = () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1]) * 1024;
    };
    return { base, stop, rss };
  }
  const portfolio = (await d.pool.query<{ id: number }>('SELECT min(id) AS id FROM portfolios')).rows[0]!.id;
  const dashboard = '/api/v1/data/symbols?sort_by=factor_market_beta&sort_order=desc&sector=Energy';
  const pages = DASHBOARD_SORTS.map((c) => dashboardPagePath(c));
  const runs = [
    ['GET /api/v1/data/symbols?sort_by=factor_market_beta&sector=Energy', dashboard, {}],
    [
      '  the same, answer cache off (FU_API_CACHE_MS=0): every request queries',
      dashboard,
      { FU_API_CACHE_MS: '0' },
    ],
    [`GET /api/v1/portfolios/{id}/factor-exposures`, `/api/v1/portfolios/${portfolio}/factor-exposures`, {}],
    [
      `dashboard page: 100 rows, every column, sorted by ${DASHBOARD_SORTS.length} columns in turn, cache off`,
      pages,
      { FU_API_CACHE_MS: '0' },
    ],
  ] as const;
  let dashboardRoute: { rate: number; p99: number } | null = null;
  let servedMemory: { before: number; after: number } | null = null;
  const rows: string[] = [];
  // BENCH_ONLY=dashboard runs only the dashboard page beside pgbench
  for (const [name, route, env] of runs.filter(
    (r) => process.env.BENCH_ONLY !== 'dashboard' || typeof r[1] !== 'string',
  )) {
    const { base, stop, rss } = await serve(env);
    try {
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
      });
      const { token } = (await login.json()) as { token: string };
      if (typeof route !== 'string') {
        // RSS added by the two latest dates in memory: after a signed-in request that loads none,
        // then after one page of each date (each loads its day), garbage collected neither time.
        const get = (p: string) => fetch(`${base}${p}`, { headers: { authorization: `Bearer ${token}` } });
        await get(`/api/v1/portfolios/${portfolio}/factor-exposures`);
        await new Promise((r) => setTimeout(r, 500));
        const before = rss();
        for (const day of [date, previous]) {
          const r = await get(`${route[0]}&date=${day}`);
          if (!r.ok) throw new Error(`dashboard page of ${day}: ${r.status}`);
          await r.arrayBuffer();
        }
        await new Promise((r) => setTimeout(r, 500));
        servedMemory = { before, after: rss() };
      }
      const r = await autocannon({
        url: `${base}${typeof route === 'string' ? route : route[0]}`,
        connections: 50,
        duration: DURATION,
        headers: { authorization: `Bearer ${token}` },
        ...(typeof route !== 'string' && {
          requests: route.map((p) => ({ method: 'GET' as const, path: p })),
        }),
      });
      if (typeof route !== 'string') dashboardRoute = { rate: r.requests.average, p99: r.latency.p99 };
      if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers`);
      rows.push(
        `| ${name} | ${r.requests.total} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} |`,
      );
    } finally {
      await stop();
    }
  }
  const pgbench = await pgbenchDashboard(url.toString(), DURATION);
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(', ');
  await d.close();
  console.log(
    `\n### API, 50 connections × ${DURATION} s each (10,000 + 48 symbols in the metrics table on the latest date, 10,000 the day before)\n`,
  );
  console.log('| route | requests | requests/s (mean) | p50 ms | p99 ms | max ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(
    `\n### The dashboard page route beside PostgreSQL alone running its SQL (${DASHBOARD_SORTS.join(', ')}; 100 rows, every column), 50 clients × ${DURATION} s\n`,
  );
  console.log('| | per second | p99 ms | route / PostgreSQL | target |');
  console.log('| --- | --- | --- | --- | --- |');
  if (pgbench)
    console.log(
      `| PostgreSQL alone: \`${pgbench.command}\` | ${pgbench.tps.toFixed(0)} | ${pgbench.p99.toFixed(1)} | | |`,
    );
  else console.log('| PostgreSQL alone: pgbench not found (apt-get install -y postgresql-client) | | | | |');
  console.log(
    `\nload average at the end: ${load} (${cpus().length} cores; other work on the machine slows both rows)`,
  );
  if (dashboardRoute) {
    const { rate, p99 } = dashboardRoute;
    console.log(
      `| GET /api/v1/data/symbols (FU_API_CACHE_MS=0; the served dates in memory) | ${rate.toFixed(0)} | ${p99} | ${pgbench ? `${(rate / pgbench.tps).toFixed(1)}×` : '—'} | ≥ 2,000/s, ≥ 10×, p99 < 50 ms |`,
    );
  }
  if (servedMemory) {
    const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
    console.log(
      `\nserver RSS with the two latest dates of 10,000 symbols served: ${mb(servedMemory.before)} MB before, ${mb(servedMemory.after)} MB after: ${mb(servedMemory.after - servedMemory.before)} MB added (target < 150 MB)`,
    );
  }
} finally {
  await done();
}
