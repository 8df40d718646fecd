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
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { connect, EMBEDDED_DATABASE, ensureDatabase } from '../src/db/connection.ts';
import { startEmbeddedServer } from '../src/db/embedded.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { freePort, scratchClusterDir } from '../src/db/throwaway.ts';
import { importPrices } from '../src/imports/prices.ts';
import { printTable } from './harness.ts';

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
      note: `${rows[0]!.n} symbols; target < 0.4 s`,
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
  printTable(`Start-up, whole processes (${RUNS} runs each, cold ${Math.min(RUNS, 3)}; median)`, table);
} finally {
  if (running) await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
