/**
 * API benchmark (npm run bench:api): autocannon, 50 connections for 20 s each, against
 *   GET /api/v1/data/symbols sorted by a factor with a sector filter, over a 10,000-symbol metrics table
 *     (as served, with its few-second answer cache, and with that cache off);
 *   GET /api/v1/portfolios/{id}/factor-exposures.
 * The server is `factor-universe serve` in a process of its own (request logging on, as in
 * production), so the load generator does not share its event loop; prints p50/p99 and requests/s.
 */
import autocannon from 'autocannon';
import { runPipeline } from '../src/pipeline/submit.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { freePort } from '../src/db/throwaway.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchServer, freshDatabase } from './harness.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 20);
const { server, done } = await benchServer();
try {
  const d = await freshDatabase(server.adminUrl, 'bench_api');
  await loadDemoMarket(d.db, d.pool, mkdtempSync(path.join(tmpdir(), 'fu-bench-api-')), 'demo-password', {
    stocks: 40,
  });
  const config = { ...loadConfig({}), dualWrite: false };
  const date = '2026-10-30';
  await runPipeline(d, config, { from: date, to: date, kind: 'run' });
  // 10,000 more symbols in the dashboard table for that date, over the 11 sectors
  await d.pool.query(
    `INSERT INTO symbol_daily_metrics (symbol, metric_date, current_price, return_1d, return_mtd, return_ytd, return_1m, return_3m, return_1y,
       market_cap, pe_ratio, ps_ratio, pb_ratio, company_name, sector, industry,
       factor_value, factor_growth, factor_momentum, factor_quality, factor_size, factor_low_vol,
       factor_growth_value_spread, factor_momentum_spread, factor_size_spread, factor_quality_spread, factor_market_beta, data_quality_score)
     SELECT 'B' || lpad(g::text, 5, '0'), $1, 10 + random() * 500, random() / 20 - 0.025, random() / 10 - 0.05, random() / 2 - 0.2,
            random() / 10 - 0.05, random() / 5 - 0.1, random() - 0.3, exp(21 + random() * 7), 5 + random() * 40, random() * 10, random() * 8,
            'Bench company ' || g, (ARRAY['Energy','Financials','Health Care','Industrials','Materials','Utilities','Real Estate',
            'Information Technology','Consumer Staples','Consumer Discretionary','Communication Services'])[1 + g % 11], 'Bench industry',
            random(), random(), random(), random(), random(), random(), random(), random(), random(), random(), 0.5 + random(), 100
       FROM generate_series(1, 10000) g`,
    [date],
  );
  await d.pool.query('ANALYZE symbol_daily_metrics');
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
          FU_JWT_SECRET: 'bench-secret-0123456789-0123456789',
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
    return { base, stop };
  }
  const portfolio = (await d.pool.query<{ id: number }>('SELECT min(id) AS id FROM portfolios')).rows[0]!.id;
  const dashboard = '/api/v1/data/symbols?sort_by=factor_market_beta&sort_order=desc&sector=Energy';
  const runs = [
    ['GET /api/v1/data/symbols?sort_by=factor_market_beta&sector=Energy', dashboard, {}],
    [
      '  the same, answer cache off (FU_API_CACHE_MS=0): every request queries',
      dashboard,
      { FU_API_CACHE_MS: '0' },
    ],
    [`GET /api/v1/portfolios/{id}/factor-exposures`, `/api/v1/portfolios/${portfolio}/factor-exposures`, {}],
  ] as const;
  const rows: string[] = [];
  for (const [name, route, env] of runs) {
    const { base, stop } = await serve(env);
    try {
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
      });
      const { token } = (await login.json()) as { token: string };
      const r = await autocannon({
        url: `${base}${route}`,
        connections: 50,
        duration: DURATION,
        headers: { authorization: `Bearer ${token}` },
      });
      if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers`);
      rows.push(
        `| ${name} | ${r.requests.total} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} |`,
      );
    } finally {
      await stop();
    }
  }
  await d.close();
  console.log(`\n### API, 50 connections × ${DURATION} s each (10,000 + 48 symbols in the metrics table)\n`);
  console.log('| route | requests | requests/s (mean) | p50 ms | p99 ms | max ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
} finally {
  await done();
}
