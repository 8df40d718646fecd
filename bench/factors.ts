/**
 * Factor engine benchmark (npm run bench:factors): prints a table of medians.
 *   1. Real data: the 558 symbols of ../shared/data/sp500 for 2024-12-31.
 *   2. Scale: a generated universe of 10,000 symbols × 3 years, one date, then 10 consecutive dates.
 * "compute" is the engine alone on a loaded panel; "end to end" is `runFactors` into an empty
 * exposures table: load prices from PostgreSQL, compute, upsert in batches.
 */
import path from 'node:path';
import type { Db } from '../src/db/connection.ts';
import { loadConfig } from '../src/config.ts';
import { withTransaction } from '../src/db/transaction.ts';
import { computeFactorBlock, saveFactorBlock } from '../src/factors/block.ts';
import { computeBetas } from '../src/factors/engine.ts';
import { symbolShard } from '../src/pipeline/partitions.ts';
import { loadModel, modelWidth } from '../src/factors/model.ts';
import { runFactors } from '../src/factors/run.ts';
import { loadPanel, saveBetas } from '../src/factors/store.ts';
import { runRiskModel } from '../src/risk/model.ts';
import { importPrices } from '../src/imports/prices.ts';
import {
  benchServer,
  databaseUrl,
  freshDatabase,
  loadAverage,
  postgresAloneCopy,
  printTable,
  writeGeneratedUniverse,
} from './harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The seed's write batch (15 symbols) and today's default (1,000: one delete and one COPY a date). */
const BATCH_SIZES = [15, 1000];

async function time(
  runs: number,
  fn: () => Promise<unknown> | unknown,
  before?: () => Promise<unknown>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    await before?.();
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const clear = (d: Db) => d.pool.query('TRUNCATE symbol_day_factors');

async function measure(d: Db, date: string, label: string) {
  const model = await loadModel(d.db);
  const panel = await loadPanel(d.pool, model, date, date, 365);
  const all = panel.symbols.map((_, i) => i);
  const end = panel.dates.length - 1;
  const compute = await time(RUNS, () => computeBetas(panel, model, end, all));
  const load = await time(RUNS, () => loadPanel(d.pool, model, date, date, 365));
  // The risk stage: the specific vols come out of the ridge pass above (the residual sum of squares
  // R² needs anyway); what it adds is their write and the covariance model of the date.
  const out = computeBetas(panel, model, end, all);
  const specificWrite = await time(
    RUNS,
    () => withTransaction(d.pool, (c) => saveBetas(c, date, modelWidth(model), [], [], [], out.specific)),
    () => d.pool.query('DELETE FROM symbol_day_factors WHERE calculation_date = $1', [date]),
  );
  const covariance = await time(RUNS, () => runRiskModel(d.db, d.pool, { date, force: true }));
  const rows = [
    {
      name: `${label}: compute (${panel.symbols.length} symbols × 11 factors, with specific vols)`,
      runsMs: compute,
    },
    { name: `${label}: load prices (one bulk read)`, runsMs: load },
    {
      name: `${label}: risk stage: write ${out.specific.length} specific vols (one binary COPY)`,
      runsMs: specificWrite,
    },
    {
      name: `${label}: risk stage: factor + proxy covariance (load 7 proxies, compute, store)`,
      runsMs: covariance,
    },
    {
      name: `${label}: risk stage total (specific write + covariance)`,
      runsMs: specificWrite.map((x, i) => x + covariance[i]!),
      note: 'target < 0.3 s at 10,000 symbols',
    },
  ];
  for (const batchSize of BATCH_SIZES) {
    const e2e = await time(
      RUNS,
      () => runFactors(d.db, d.pool, { date, batchSize }),
      () => clear(d),
    );
    rows.push({ name: `${label}: end to end (load, compute, write; batches of ${batchSize})`, runsMs: e2e });
  }
  return rows;
}

const { server, done } = await benchServer();
try {
  const rows = [];
  const real = await freshDatabase(server.adminUrl, 'bench_real');
  await importPrices(real.pool, path.resolve('..', 'shared', 'data', 'sp500', 'prices.csv.gz'));
  await real.pool.query('VACUUM ANALYZE market_data_cache');
  rows.push(...(await measure(real, '2024-12-31', 'S&P 500 data')));
  await real.close();

  const scale = await freshDatabase(server.adminUrl, 'bench_scale');
  const m = writeGeneratedUniverse(10_000 - 8);
  const file = m.file;
  const t0 = performance.now();
  await importPrices(scale.pool, file);
  // Measure the steady state: autovacuum would otherwise be working through the fresh rows meanwhile.
  await scale.pool.query('VACUUM ANALYZE market_data_cache');
  console.log(
    `generated universe imported: ${m.stocks.length + 8} symbols × ${m.dates.length} days in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const last = m.dates.at(-1)!;
  rows.push(...(await measure(scale, last, '10,000 symbols')));
  const tenDates = m.dates.slice(-10);
  const ten = await time(
    Math.min(RUNS, 3),
    async () => {
      for (const date of tenDates) await runFactors(scale.db, scale.pool, { date });
    },
    () => clear(scale),
  );
  rows.push({ name: '10,000 symbols: 10 consecutive dates, end to end, date by date', runsMs: ten });
  // The pipeline's way: each shard of symbols is one job over the 10 dates (one read of its closes,
  // one COPY), as a worker runs the factor stage's jobs one after another.
  const model = await loadModel(scale.db);
  const shards = Math.ceil(10_000 / loadConfig({}).symbolShardSize);
  const block = await time(
    Math.min(RUNS, 3),
    async () => {
      for (let index = 0; index < shards; index++) {
        const symbols = await symbolShard(scale.pool, { index, count: shards });
        const b = await computeFactorBlock(scale.pool, model, tenDates, symbols, false);
        await withTransaction(scale.pool, (c) => saveFactorBlock(c, b));
      }
    },
    () => clear(scale),
  );
  rows.push({
    name: `10,000 symbols: 10 consecutive dates as pipeline jobs (${shards} shards × one 10-day block)`,
    runsMs: block,
    note: 'target < 6 s',
  });
  const alone = await postgresAloneCopy(
    databaseUrl(server.adminUrl, 'bench_scale'),
    'symbol_day_factors',
    'binary',
  );
  rows.push({
    name: `PostgreSQL alone: psql \\copy binary of the ${alone.rows.toLocaleString('en-US')} wide rows of those 10 dates`,
    runsMs: [alone.ms],
    note: 'the anchor of the row above',
  });
  await scale.close();
  printTable(`Factor engine (${RUNS} runs each; median); load average ${await loadAverage()}`, rows);
} finally {
  await done();
}
