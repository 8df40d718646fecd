/**
 * Start-up benchmark (npm run bench:startup): whole processes of the compiled command line, timed
 * from spawn to exit, median of several runs.
 *   - `node -e 0`: the floor, what Node itself costs on this machine right now;
 *   - `factor-universe --help`;
 *   - `factors run --date 2024-12-31 --force` on the 558 real symbols (../shared/data/sp500
 *     imported first into a throwaway embedded cluster), the database reached three ways: an
 *     embedded server already running on the data folder (attached), FU_DATABASE_URL, and an
 *     embedded server this process has to start and stop (cold);
 *   - `factors run` again without --force: every symbol cached, so the process is all overhead.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { connect, EMBEDDED_DATABASE, ensureDatabase } from '../src/db/connection.ts';
import { startEmbeddedServer } from '../src/db/embedded.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { freePort, scratchClusterDir } from '../src/db/throwaway.ts';
import { importPrices } from '../src/imports/prices.ts';
import { loadAverage, printTable } from './harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const DATE = '2024-12-31';
const cli = path.resolve('bin/factor-universe.js');

execFileSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });

/** Wall time of one process from spawn to exit; fails on a non-zero exit. */
function timeProcess(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const repeat = (runs: number, fn: () => number) => Array.from({ length: runs }, fn);

/**
 * `npm start` (the compiled `start` command) on `dataDir`: the time from spawn until its port answers
 * GET /health with 200. The process is then stopped (SIGTERM) and awaited, not timed.
 */
async function timeStartUntilServing(dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'start'], {
    env: {
      ...process.env,
      FU_DATA_DIR: dataDir,
      FU_DATABASE_URL: '',
      DATABASE_URL: '',
      FU_PORT: String(port),
      FU_PG_PORT: String(await freePort()),
    },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`start exited ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
      if (performance.now() - t0 > 300_000) throw new Error('start did not serve within 300 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

/** PostgreSQL alone: initdb, start and stop of an embedded cluster in a new folder. */
async function timeFreshCluster(): Promise<number> {
  const dir = scratchClusterDir('fu-bench-initdb-');
  const t0 = performance.now();
  const s = await startEmbeddedServer(dir, await freePort());
  const ms = performance.now() - t0;
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const dataDir = scratchClusterDir('fu-bench-startup-');
const server = await startEmbeddedServer(dataDir, await freePort());
let running = true;
try {
  const url = await ensureDatabase(server.adminUrl, EMBEDDED_DATABASE);
  const d = connect(url, 4);
  await migrateToLatest(d.db);
  await importPrices(d.pool, path.resolve('..', 'shared', 'data', 'sp500', 'prices.csv.gz'));
  await d.pool.query('VACUUM ANALYZE market_data_cache');
  const { rows } = await d.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM symbol_universe');
  await d.db.destroy();

  const attached = { FU_DATA_DIR: dataDir, FU_DATABASE_URL: '', DATABASE_URL: '' };
  const external = { FU_DATABASE_URL: url, FU_DATA_DIR: dataDir };
  const factors = [cli, 'factors', 'run', '--date', DATE];
  const table = [
    { name: 'node -e 0 (the floor)', runsMs: repeat(RUNS, () => timeProcess(['-e', '0'])) },
    {
      name: 'factor-universe --help',
      runsMs: repeat(RUNS, () => timeProcess([cli, '--help'])),
      note: 'target < 0.15 s',
    },
    {
      name: `factors run --date ${DATE} --force, embedded server running (attach)`,
      runsMs: repeat(RUNS, () => timeProcess([...factors, '--force'], attached)),
      note: `${rows[0]!.n} symbols; target < 0.3 s (issue 18)`,
    },
    {
      name: `factors run --date ${DATE} --force, FU_DATABASE_URL`,
      runsMs: repeat(RUNS, () => timeProcess([...factors, '--force'], external)),
      note: `${rows[0]!.n} symbols`,
    },
    {
      name: `factors run --date ${DATE}, all cached (start-up and connect only)`,
      runsMs: repeat(RUNS, () => timeProcess(factors, attached)),
    },
  ];
  // Cold: the process starts the embedded server on its cluster and stops it at exit.
  await server.stop();
  running = false;
  const coldPort = String(await freePort());
  table.push({
    name: `factors run --date ${DATE} --force, embedded server started and stopped (cold)`,
    runsMs: repeat(Math.min(RUNS, 3), () =>
      timeProcess([...factors, '--force'], { ...attached, FU_PG_PORT: coldPort }),
    ),
    note: 'PostgreSQL start-up and shutdown included',
  });
  // The first `npm start` of a new clone: a new data folder (initdb, migrations, the demo market).
  const firstRuns = Math.min(RUNS, 3);
  const first: number[] = [];
  const again: number[] = [];
  const initdb: number[] = [];
  for (let i = 0; i < firstRuns; i++) {
    initdb.push(await timeFreshCluster());
    const dir = scratchClusterDir('fu-bench-first-start-');
    try {
      first.push(await timeStartUntilServing(dir));
      again.push(await timeStartUntilServing(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  table.push(
    {
      name: 'PostgreSQL alone: initdb + start of an embedded cluster in a new folder',
      runsMs: initdb,
      note: 'the anchor of the two rows below',
    },
    {
      name: 'first npm start (new data folder) until its port answers /health',
      runsMs: first,
      note: 'initdb, migrations, demo market; target < 15 s',
    },
    { name: 'npm start again (same folder) until its port answers', runsMs: again },
  );
  printTable(
    `Start-up, whole processes (${RUNS} runs each, cold and first start ${Math.min(RUNS, 3)}; median); load average ${await loadAverage()}`,
    table,
  );
} finally {
  if (running) await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
