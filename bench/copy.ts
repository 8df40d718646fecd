/**
 * Write benchmark (npm run bench:copy): a year of betas (2024, 252 trading days × the 558 symbols of
 * ../shared/data/sp500, every factor, skip and specific vol) written by the factor stage's writer,
 * beside PostgreSQL alone loading the same rows with `psql \copy`:
 *
 * - ours: the wide rows (symbol_day_factors, migration 0010), one transaction per 21-day block as
 *   the pipeline writes them: a delete of the block's pairs and one binary COPY; then the same rows
 *   through our text COPY;
 * - PostgreSQL alone, binary \copy of the same rows into the same wide table (the anchor and target:
 *   ours ≤ 1.5 × this);
 * - PostgreSQL alone into the layouts not chosen: a column per factor (typed columns), and the old
 *   tall table of migration 0001 (primary key symbol-first, date index, foreign key per row).
 *
 * One run (BENCH_RUNS for more). Prints the load average beside the table.
 */
import path from 'node:path';
import { copyRows } from '../src/db/copy.ts';
import { withTransaction } from '../src/db/transaction.ts';
import { computeFactorBlock, type FactorBlock } from '../src/factors/block.ts';
import { loadModel } from '../src/factors/model.ts';
import { saveFactorDays, wideRows } from '../src/factors/wide-rows.ts';
import { importPrices } from '../src/imports/prices.ts';
import { tradingDays } from '../src/market/closes.ts';
import { refreshUniverse } from '../src/universe.ts';
import {
  benchServer,
  databaseUrl,
  freshDatabase,
  loadAverage,
  postgresAloneCopy,
  printTable,
  tableBytes,
} from './harness.ts';

const SP500 = path.resolve('..', 'shared', 'data', 'sp500');
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const MB = (b: number) => `${(b / 1e6).toFixed(0)} MB`;

const arrayText = (a: readonly (number | null)[] | null): string | null =>
  a === null ? null : `{${a.map((x) => (x === null ? 'NULL' : String(x))).join(',')}}`;

const { server, done } = await benchServer();
try {
  const d = await freshDatabase(server.adminUrl, 'bench_copy');
  const url = databaseUrl(server.adminUrl, 'bench_copy');
  await importPrices(d.pool, path.join(SP500, 'prices.csv.gz'));
  await withTransaction(d.pool, refreshUniverse);
  await d.pool.query('VACUUM ANALYZE market_data_cache');
  const model = await loadModel(d.db);
  const days = await tradingDays(d.pool, 'SPY', '2024-01-01', '2024-12-31');
  const symbols = (
    await d.pool.query<{ symbol: string }>('SELECT symbol FROM symbol_universe ORDER BY 1')
  ).rows.map((r) => r.symbol);
  const blocks: FactorBlock[] = [];
  for (let i = 0; i < days.length; i += 21)
    blocks.push(await computeFactorBlock(d.pool, model, days.slice(i, i + 21), symbols, true));
  const betas = blocks.reduce((n, b) => n + b.days.reduce((m, x) => m + x.results.length, 0), 0);
  console.log(
    `${days.length} days × ${symbols.length} symbols computed: ${betas.toLocaleString('en-US')} betas`,
  );

  const ours: number[] = [];
  const oursText: number[] = [];
  const alone: number[] = [];
  const aloneText: number[] = [];
  const typed: number[] = [];
  const tall: number[] = [];
  const tallBinary: number[] = [];
  let wideRowsN = 0;
  const sizes = { wide: 0, typed: 0, tall: 0 };
  for (let run = 0; run < RUNS; run++) {
    // ours, binary: as the pipeline writes, a transaction per block
    await d.pool.query('TRUNCATE symbol_day_factors');
    await d.pool.query('CHECKPOINT');
    let t0 = performance.now();
    for (const b of blocks) await withTransaction(d.pool, (c) => saveFactorDays(c, b.days, b.width));
    ours.push(performance.now() - t0);
    wideRowsN = Number((await d.pool.query('SELECT count(*) FROM symbol_day_factors')).rows[0].count);

    // ours, text COPY of the same rows (arrays as literals)
    await d.pool.query('TRUNCATE symbol_day_factors');
    await d.pool.query('CHECKPOINT');
    t0 = performance.now();
    for (const b of blocks)
      await withTransaction(d.pool, async (c) => {
        const rows = b.days.flatMap((day) =>
          [...wideRows(day, b.width)].map(([symbol, r]) => {
            const any = r.outcome.some((o) => o !== null);
            return [
              day.date,
              symbol,
              any ? arrayText(r.beta) : null,
              any ? arrayText(r.r2) : null,
              any ? arrayText(r.obs) : null,
              any ? arrayText(r.outcome) : null,
              r.specificVol,
              r.specificObs,
            ];
          }),
        );
        await copyRows(
          c,
          'symbol_day_factors',
          [
            'calculation_date',
            'symbol',
            'beta',
            'r_squared',
            'observations',
            'outcome',
            'specific_vol',
            'specific_observations',
          ],
          rows,
        );
      });
    oursText.push(performance.now() - t0);

    // PostgreSQL alone, the same rows into the same table
    alone.push((await postgresAloneCopy(url, 'symbol_day_factors', 'binary')).ms);
    aloneText.push((await postgresAloneCopy(url, 'symbol_day_factors', 'text')).ms);
    sizes.wide = await tableBytes(d.pool, 'symbol_day_factors');

    // the layout not chosen: a column per factor
    const ids = model.factors.map((f) => f.id);
    await d.pool.query('DROP TABLE IF EXISTS bench_typed');
    await d.pool.query(`
      CREATE TABLE bench_typed (calculation_date date NOT NULL, symbol text NOT NULL,
        ${ids.map((i) => `beta_${i} float8, r2_${i} float8, obs_${i} int4, outcome_${i} int2`).join(', ')},
        specific_vol float8, specific_observations int4, computed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (calculation_date, symbol)) PARTITION BY RANGE (calculation_date);
      CREATE TABLE bench_typed_2024 PARTITION OF bench_typed FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
      CREATE INDEX ON bench_typed (symbol, calculation_date);
      INSERT INTO bench_typed SELECT calculation_date, symbol,
        ${ids.map((i) => `beta[${i}], r_squared[${i}], observations[${i}], outcome[${i}]`).join(', ')},
        specific_vol, specific_observations, computed_at FROM symbol_day_factors;`);
    typed.push((await postgresAloneCopy(url, 'bench_typed', 'binary')).ms);
    sizes.typed = await tableBytes(d.pool, 'bench_typed');

    // the old tall layout (migration 0001)
    await d.pool.query('DROP TABLE IF EXISTS bench_tall');
    await d.pool.query(`
      CREATE TABLE bench_tall (
        symbol text NOT NULL, factor_id smallint NOT NULL REFERENCES factor_definitions (id),
        calculation_date date NOT NULL, beta double precision NOT NULL CHECK (beta BETWEEN -1e6 AND 1e6),
        r_squared double precision CHECK (r_squared BETWEEN 0 AND 1), observations integer NOT NULL,
        quality_flag text NOT NULL CHECK (quality_flag IN ('full_history', 'limited_history', 'capped')),
        computed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (symbol, factor_id, calculation_date));
      CREATE INDEX ON bench_tall (calculation_date, factor_id);
      INSERT INTO bench_tall SELECT * FROM symbol_factor_exposures;`);
    tall.push((await postgresAloneCopy(url, 'bench_tall', 'text')).ms);
    tallBinary.push((await postgresAloneCopy(url, 'bench_tall', 'binary')).ms);
    sizes.tall = await tableBytes(d.pool, 'bench_tall');
    console.log(`run ${run + 1}/${RUNS} done`);
  }
  const ratio = ours.reduce((a, b) => a + b, 0) / alone.reduce((a, b) => a + b, 0);
  printTable(
    `A year of betas: 2024, ${days.length} days × ${symbols.length} symbols = ${wideRowsN.toLocaleString('en-US')} wide rows ` +
      `(${betas.toLocaleString('en-US')} betas), ${RUNS} run(s); load average ${await loadAverage()}`,
    [
      {
        name: 'ours: binary COPY into symbol_day_factors, a transaction per 21-day block',
        runsMs: ours,
        note: `${ratio.toFixed(2)} × PostgreSQL alone (target ≤ 1.5 ×)`,
      },
      { name: 'ours: text COPY of the same rows', runsMs: oursText },
      {
        name: 'PostgreSQL alone: psql \\copy binary into symbol_day_factors (float8[] per factor)',
        runsMs: alone,
        note: `${MB(sizes.wide)} with indexes`,
      },
      { name: 'PostgreSQL alone: psql \\copy text into symbol_day_factors', runsMs: aloneText },
      {
        name: 'PostgreSQL alone: psql \\copy binary into a column-per-factor table (not chosen)',
        runsMs: typed,
        note: `${MB(sizes.typed)} with indexes`,
      },
      {
        name: `PostgreSQL alone: psql \\copy text into the old tall table (${betas.toLocaleString('en-US')} rows, FK, 2 indexes)`,
        runsMs: tall,
        note: `${MB(sizes.tall)} with indexes`,
      },
      { name: 'PostgreSQL alone: psql \\copy binary into the old tall table', runsMs: tallBinary },
    ],
  );
  await d.close();
} finally {
  await done();
}
