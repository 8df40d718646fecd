/**
 * Import benchmark: ../shared/data/sp500/prices.csv.gz (1.8M rows) into an empty embedded
 * database, and the same file again (nothing changes). Median of several runs.
 * Usage: npm run bench:import [-- RUNS]
 */
import path from 'node:path';
import { importPrices } from '../src/imports/prices.ts';
import {
  benchServer,
  databaseUrl,
  freshDatabase,
  loadAverage,
  postgresAloneCopy,
  printTable,
} from './harness.ts';

const FILE = path.resolve('..', 'shared', 'data', 'sp500', 'prices.csv.gz');
const runs = Number(process.argv[2] ?? 3);

const { server, done } = await benchServer();
const empty: number[] = [];
const again: number[] = [];
let rows = 0;
const alone: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const d = await freshDatabase(server.adminUrl, 'bench_import');
    let t0 = performance.now();
    const s = await importPrices(d.pool, FILE);
    empty.push(performance.now() - t0);
    if (s.failures.length) throw s.failures[0];
    rows = s.results[0]!.rows;
    t0 = performance.now();
    await importPrices(d.pool, FILE);
    again.push(performance.now() - t0);
    // PostgreSQL alone: the same rows into the same table with psql \copy (text, as from a CSV)
    alone.push(
      (await postgresAloneCopy(databaseUrl(server.adminUrl, 'bench_import'), 'market_data_cache', 'text')).ms,
    );
    await d.close();
    console.log(
      `run ${i + 1}/${runs}: ${(empty.at(-1)! / 1000).toFixed(2)} s, re-import ${(again.at(-1)! / 1000).toFixed(2)} s`,
    );
  }
} finally {
  await done();
}
const ratio = empty.reduce((a, b) => a + b, 0) / alone.reduce((a, b) => a + b, 0);
printTable(
  `Import of prices.csv.gz (${rows.toLocaleString('en-US')} rows, 558 symbols), ${runs} runs; load average ${await loadAverage()}`,
  [
    {
      name: 'into an empty database',
      runsMs: empty,
      note: `${ratio.toFixed(2)} × PostgreSQL alone (target ≤ 1.5 ×)`,
    },
    {
      name: 'PostgreSQL alone: psql \\copy text of the same rows into market_data_cache',
      runsMs: alone,
    },
    { name: 're-import of the same file', runsMs: again, note: 'writes nothing' },
  ],
);
