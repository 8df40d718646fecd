/**
 * Batch benchmark (npm run bench:batch): the 558 symbols of ../shared/data/sp500 plus the three demo
 * portfolios (built on real stocks), backfilled over the 252 trading days of 2024 with every phase,
 * into an empty embedded database, by the pipeline engine with one in-process worker. Prints dates
 * per second and the time per stage (the sum of its jobs' durations).
 */
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { writeDemoFiles } from '../src/demo/load.ts';
import { demoPortfolios } from '../src/demo/market.ts';
import { Random } from '../src/demo/random.ts';
import { importCompanies } from '../src/imports/companies.ts';
import { importPortfolio } from '../src/imports/portfolio.ts';
import { importPrices } from '../src/imports/prices.ts';
import { loadCloses } from '../src/market/closes.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { createUser } from '../src/users/users.ts';
import {
  benchServer,
  databaseUrl,
  freshDatabase,
  loadAverage,
  median,
  postgresAloneCopy,
  printTable,
  scratchFolder,
} from './harness.ts';

/** Every table a backfill writes: PostgreSQL alone loads the same rows into them (the anchor). */
const WRITTEN = [
  'symbol_day_factors',
  'risk_models',
  'symbol_daily_metrics',
  'position_daily_values',
  'factor_exposures',
  'portfolio_snapshots',
  'stress_test_results',
  'portfolio_risk',
  'portfolio_attribution',
  'position_factor_exposures',
];

const SP500 = path.resolve('..', 'shared', 'data', 'sp500');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Worker loops: as `batch backfill` runs by default (FU_WORKER_CONCURRENCY), unless BENCH_CONCURRENCY says. */
const LOOPS = Number(process.env.BENCH_CONCURRENCY ?? loadConfig({}).workerConcurrency);

const { server, done } = await benchServer();
try {
  const total: number[] = [];
  const perPhase = new Map<string, number[]>();
  let dates = 0;
  const anchor = { ms: 0, rows: 0 };
  for (let run = 0; run < RUNS; run++) {
    const d = await freshDatabase(server.adminUrl, 'bench_batch');
    await importPrices(d.pool, path.join(SP500, 'prices.csv.gz'));
    await importCompanies(d.pool, path.join(SP500, 'companies.csv'));
    await d.pool.query('VACUUM ANALYZE market_data_cache'); // the steady state, not autovacuum's first pass
    // the demo portfolios, entered on real stocks in late 2023
    const closes = await loadCloses(d.pool, 'SPY', '2023-09-01', '2023-12-29');
    const profiled = await d.pool.query<{ symbol: string }>(
      'SELECT symbol FROM company_profiles ORDER BY symbol',
    );
    const have = new Set(closes.symbols);
    const T = closes.dates.length;
    const universe = {
      dates: closes.dates,
      symbols: closes.symbols,
      closes: closes.symbols.map((_, i) => closes.closes.subarray(i * T, (i + 1) * T)),
      stocks: profiled.rows.filter(
        (r) =>
          have.has(r.symbol) && !Number.isNaN(closes.closes[closes.symbols.indexOf(r.symbol) * T + T - 1]!),
      ),
    };
    const portfolios = demoPortfolios(new Random(1), universe);
    const files = writeDemoFiles(
      { ...universe, portfolios, companies: [], stocks: [] },
      scratchFolder('fu-bench-batch-'),
    );
    await createUser(d.db, { username: 'demo', password: 'demo-password' });
    for (const [i, file] of files.portfolios.entries()) {
      await importPortfolio(d.pool, file, {
        name: portfolios[i]!.name,
        owner: 'demo',
        equity: portfolios[i]!.equity,
      });
    }

    const t0 = performance.now();
    const outcome = await runPipeline(
      d,
      { ...loadConfig({}), dualWrite: process.env.FU_DUAL_WRITE !== 'false' },
      { from: '2024-01-01', to: '2024-12-31', kind: 'backfill' },
      { concurrency: LOOPS },
    );
    total.push(performance.now() - t0);
    dates = outcome.days;
    const { rows } = await d.pool.query<{ stage: string; ms: number; jobs: number }>(
      'SELECT stage, sum(duration_ms)::float8 AS ms, count(*)::int AS jobs FROM batch_jobs WHERE run_id = $1 GROUP BY stage',
      [outcome.runId],
    );
    for (const r of rows)
      perPhase.set(`${r.stage} (${r.jobs} jobs)`, [
        ...(perPhase.get(`${r.stage} (${r.jobs} jobs)`) ?? []),
        r.ms,
      ]);
    // the stages that time their own phases (details.loadMs, computeMs, writeMs…): their sums
    const phases = await d.pool.query<{ stage: string; key: string; ms: number }>(
      `SELECT stage, key, sum(value::float8)::float8 AS ms FROM batch_jobs, jsonb_each_text(details)
        WHERE run_id = $1 AND key LIKE '%Ms' AND jsonb_typeof(details -> key) = 'number'
        GROUP BY stage, key ORDER BY stage, key`,
      [outcome.runId],
    );
    for (const p of phases.rows) console.log(`  ${p.stage}.${p.key}: ${(p.ms / 1000).toFixed(2)} s`);
    console.log(
      `run ${run + 1}/${RUNS}: ${dates} dates in ${(total.at(-1)! / 1000).toFixed(1)} s, ${outcome.status}`,
    );
    if (run === RUNS - 1)
      for (const table of WRITTEN) {
        const a = await postgresAloneCopy(databaseUrl(server.adminUrl, 'bench_batch'), table, 'binary');
        anchor.ms += a.ms;
        anchor.rows += a.rows;
      }
    await d.close();
  }
  const dual = process.env.FU_DUAL_WRITE !== 'false';
  printTable(
    `Backfill of 2024 (${dates} trading days), 558 symbols + 3 demo portfolios, all stages, dual-write ${dual ? 'on' : 'off'}, ` +
      `${LOOPS} worker loop(s) (${RUNS} runs); load average ${await loadAverage()}`,
    [
      {
        name: 'whole year',
        runsMs: total,
        note: `${(dates / (median(total) / 1000)).toFixed(1)} dates/s; target < ${dual ? 15 : 10} s`,
      },
      {
        name: `PostgreSQL alone: psql \\copy binary of the ${anchor.rows.toLocaleString('en-US')} rows the backfill wrote`,
        runsMs: [anchor.ms],
        note: `last run's rows, ${WRITTEN.length} tables`,
      },
      ...[...perPhase].map(([phase, runsMs]) => ({ name: `  ${phase}, sum of job durations`, runsMs })),
    ],
  );
} finally {
  await done();
}
