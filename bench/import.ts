/**
 * Import benchmark: ../shared/data/sp500/prices.csv.gz (1.8M rows) into an empty embedded
 * database, and the same file again (nothing changes). Median of several runs.
 * Usage: npm run bench:import [-- RUNS]
 */
import path from 'node:path';
import { importPrices } from '../src/imports/prices.ts';
import { benchServer, freshDatabase, printTable } from './harness.ts';

const FILE = path.resolve('..', 'shared', 'data', 'sp500', 'prices.csv.gz');
const runs = Number(process.argv[2] ?? 3);

const { server, done } = await benchServer();
const empty: number[] = [];
const again: number[] = [];
let rows = 0;
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
    await d.close();
    console.log(
      `run ${i + 1}/${runs}: ${(empty.at(-1)! / 1000).toFixed(2)} s, re-import ${(again.at(-1)! / 1000).toFixed(2)} s`,
    );
  }
} finally {
  await done();
}
printTable(`Import of prices.csv.gz (${rows.toLocaleString('en-US')} rows, 558 symbols), ${runs} runs`, [
  { name: 'into an empty database', runsMs: empty, note: 'target < 20 s' },
  { name: 're-import of the same file', runsMs: again, note: 'writes nothing' },
]);
