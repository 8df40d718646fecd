/**
 * Scale benchmark (npm run bench:scale): a generated universe of 10,000 symbols, a backfill of its
 * last 60 trading days (every stage) worked by 1, 2 and 4 `factor-universe worker` processes, and the
 * engine's own cost per job (a run of stages that do nothing). Prints wall times (median of
 * BENCH_RUNS runs) and, per run, the sum of the jobs' own durations.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { importPrices } from '../src/imports/prices.ts';
import { PipelineEngine } from '../src/pipeline/engine.ts';
import { waitForRun } from '../src/pipeline/progress.ts';
import type { Stage } from '../src/pipeline/stages.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import {
  benchServer,
  freshDatabase,
  loadAverage,
  median,
  postgresAloneCopy,
  printTable,
  tableBytes,
  writeGeneratedUniverse,
} from './harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const DAYS = 60;
/** Jobs each worker process runs at once: one, so that n processes are n jobs on the machine's cores. */
const LOOPS = process.env.BENCH_LOOPS ?? '1';

const { server, done } = await benchServer();
const children: ChildProcess[] = [];
try {
  const d = await freshDatabase(server.adminUrl, 'bench_scale');
  const m = writeGeneratedUniverse(10_000 - 8, 260 + DAYS);
  await importPrices(d.pool, m.file);
  rmSync(m.file, { force: true });
  await d.pool.query('VACUUM ANALYZE market_data_cache');
  const from = m.dates.at(-DAYS)!;
  const to = m.dates.at(-1)!;
  const url = new URL(server.adminUrl);
  url.pathname = '/bench_scale';
  const config = { ...loadConfig({}), dualWrite: false };
  console.log(`${m.stocks.length + 8} symbols, backfill ${from} to ${to} (${DAYS} trading days)`);

  const rows = [];
  for (const n of WORKERS) {
    const walls: number[] = [];
    const work: number[] = [];
    let jobs = 0;
    for (let run = 0; run < RUNS; run++) {
      await d.pool.query(
        'TRUNCATE symbol_day_factors, risk_models, symbol_daily_metrics, batch_jobs, batch_runs',
      );
      for (let i = 0; i < n; i++)
        children.push(
          spawn(process.execPath, [path.resolve('bin/factor-universe.js'), 'worker'], {
            env: {
              ...process.env,
              FU_DATABASE_URL: url.toString(),
              FU_DUAL_WRITE: 'false',
              FU_WORKER_CONCURRENCY: LOOPS,
            },
            stdio: 'ignore',
          }),
        );
      const queue = await PipelineEngine.open(d, config, { log: () => undefined, supervise: false });
      const t0 = performance.now();
      const runId = await queue.createRun({ from, to, kind: 'backfill' });
      const result = await waitForRun(d.pool, runId, () => undefined, { intervalMs: 20 });
      walls.push(performance.now() - t0);
      await queue.stop();
      for (const c of children.splice(0)) c.kill('SIGTERM');
      const { rows: r } = await d.pool.query<{ ms: number; jobs: number }>(
        'SELECT sum(duration_ms)::float8 AS ms, count(*)::int AS jobs FROM batch_jobs WHERE run_id = $1',
        [runId],
      );
      work.push(r[0]!.ms);
      jobs = r[0]!.jobs;
      console.log(
        `${n} worker(s), run ${run + 1}/${RUNS}: ${result.status} in ${(walls.at(-1)! / 1000).toFixed(1)} s, ${jobs} jobs`,
      );
      await new Promise((r) => setTimeout(r, 1000)); // the stopped workers release their connections
    }
    rows.push({
      name: `${n} worker process(es) × ${LOOPS} job(s) at once: 60-date backfill, wall`,
      runsMs: walls,
      note: `${jobs} jobs; sum of job durations ${(median(work) / 1000).toFixed(1)} s`,
    });
  }

  // Storage of the 60 days written, extrapolated to a year (252 trading days), and PostgreSQL alone
  // loading the same rows (psql \copy binary) as the anchor of the wall times above.
  const stored = ['symbol_day_factors', 'symbol_daily_metrics', 'risk_models'];
  let bytes = 0;
  for (const t of stored) bytes += await tableBytes(d.pool, t);
  let anchorMs = 0;
  let anchorRows = 0;
  for (const t of stored) {
    const a = await postgresAloneCopy(url.toString(), t, 'binary');
    anchorMs += a.ms;
    anchorRows += a.rows;
  }
  rows.push({
    name: `PostgreSQL alone: psql \\copy binary of the ${anchorRows.toLocaleString('en-US')} rows one backfill wrote`,
    runsMs: [anchorMs],
    note: stored.join(', '),
  });
  const storage = `storage: ${(bytes / 1e6).toFixed(0)} MB for ${DAYS} days (betas, specific vols, metrics, with indexes), ${((bytes * 252) / DAYS / 1e9).toFixed(2)} GB a year extrapolated (target < 1 GB)`;
  console.log(storage);

  // The engine's own cost: 200 jobs of a stage that does nothing, one in-process worker.
  const noop = (name: string, after: string[], scope: 'run' | 'block'): Stage => ({
    name,
    description: 'does nothing',
    after,
    reads: [],
    writes: [],
    scope,
    partitions: async () => (scope === 'block' ? 10 : 1),
    run: async () => ({ items: 0 }),
  });
  const stages = [noop('start', [], 'run'), noop('work', ['start'], 'block')];
  const overhead: number[] = [];
  let noopJobs = 0;
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    const r = await runPipeline(
      d,
      { ...config, blockDays: 3 },
      { from: from, to, kind: 'backfill' },
      { stages },
    );
    const { rows: c } = await d.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM batch_jobs WHERE run_id = $1',
      [r.runId],
    );
    noopJobs = c[0]!.n;
    overhead.push((performance.now() - t0) / noopJobs);
  }
  rows.push({
    name: `engine overhead per job (${noopJobs} jobs that do nothing)`,
    runsMs: overhead,
  });
  printTable(
    `Scale: 10,000 symbols, ${DAYS}-date backfill, all stages (${RUNS} runs; median); load average ${await loadAverage()}`,
    rows,
  );
  console.log(storage);
  await d.close();
} finally {
  for (const c of children) c.kill('SIGKILL');
  await done();
}
