/**
 * Validation benchmark (npm run bench:validation; run it through /work/cpu-bench): the two
 * forecast-validation answers (METHODOLOGY.md 14) as the routes compute them, bulk loads included.
 *
 * 1. Real data, 558 symbols: the S&P 500 closes of ../shared/data/sp500 (FU_SHARED), the ten-stock
 *    book of docs/validation-book.csv, a backfill of 2023-12-28 … 2024-12-31 (every stage), then the
 *    portfolio's validation and the risk model's (factors + the specific summary over the universe) at
 *    T = 20, 60, 120, 250.
 * 2. 10,000 symbols: a generated universe's closes (261 days) with forecasts written straight into
 *    the stored tables for every day (risk models; per symbol the metrics row with its six ridge
 *    betas, specific vol and return) —
 *    what a year's backfill would store, without spending an hour computing it: the validation reads
 *    rows, whatever computed them. Then the risk model's validation at the same T.
 *
 * Prints a Markdown table of medians (BENCH_RUNS runs, default 5, after one warm-up run).
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { loadConfig } from '../src/config.ts';
import { loadModel, ridgeFactors } from '../src/factors/model.ts';
import { importCompanies } from '../src/imports/companies.ts';
import { importPortfolio } from '../src/imports/portfolio.ts';
import { importPrices } from '../src/imports/prices.ts';
import { tradingDays } from '../src/market/closes.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { Random } from '../src/demo/random.ts';
import { validatePortfolioWindow, validateRiskModel } from '../src/risk/validation/report.ts';
import { createUser } from '../src/users/users.ts';
import { benchServer, freshDatabase, median, writeGeneratedUniverse } from './harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WINDOWS = [20, 60, 120, 250];
const SHARED = process.env.FU_SHARED ?? path.resolve('..', 'shared', 'data', 'sp500');
const AS_OF = '2024-12-31';

async function time(f: () => Promise<unknown>): Promise<number[]> {
  await f(); // warm-up: plans cached, pages in memory
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    runs.push(performance.now() - t0);
  }
  return runs;
}

const config = { ...loadConfig({}), dualWrite: false };
const { server, done } = await benchServer();
const rows: { name: string; runsMs: number[]; note?: string }[] = [];
try {
  // 1. the S&P 500 over 2024
  {
    const d = await freshDatabase(server.adminUrl, 'bench_validation_sp500');
    await importPrices(d.pool, path.join(SHARED, 'prices.csv.gz'));
    await importCompanies(d.pool, path.join(SHARED, 'companies.csv'));
    await createUser(d.db, { username: 'bench', password: 'bench-password' });
    const { portfolioId } = await importPortfolio(d.pool, path.resolve('docs/validation-book.csv'), {
      name: 'Mega-cap ten',
      owner: 'bench',
      equity: 1_000_000,
    });
    const t0 = performance.now();
    await runPipeline(d, config, { from: '2023-12-28', to: AS_OF, kind: 'backfill' });
    console.log(`S&P 500 backfill of 2024: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await d.pool.query('VACUUM ANALYZE');
    const model = await loadModel(d.db);
    for (const T of WINDOWS) {
      const v = await validatePortfolioWindow(d.pool, model, portfolioId, AS_OF, T);
      rows.push({
        name: `portfolio validation, 10 positions, T = ${T}`,
        runsMs: await time(() => validatePortfolioWindow(d.pool, model, portfolioId, AS_OF, T)),
        note: `n = ${v.bias.n}`,
      });
    }
    for (const T of WINDOWS) {
      const v = await validateRiskModel(d.pool, model, config.riskHalfLife, AS_OF, T);
      rows.push({
        name: `risk-model validation, 558 symbols, T = ${T}`,
        runsMs: await time(() => validateRiskModel(d.pool, model, config.riskHalfLife, AS_OF, T)),
        note: `${v.specific.symbols} symbols in the specific summary`,
      });
    }
    await d.close();
  }

  // 2. 10,000 symbols with a year of stored forecasts
  {
    const d = await freshDatabase(server.adminUrl, 'bench_validation_10k');
    const m = writeGeneratedUniverse(10_000 - 8, 261);
    await importPrices(d.pool, m.file);
    const model = await loadModel(d.db);
    const days = await tradingDays(d.pool, model.settings.calendarSymbol, '0001-01-01', '9999-12-31');
    const factors = ridgeFactors(model);
    const symbols = [...m.stocks, 'SPY', ...factors.map((f) => f.longProxy)];
    const rng = new Random(11);
    const t0 = performance.now();
    const client = await d.pool.connect();
    try {
      // one COPY per table, streamed a day at a time (15 million beta rows never sit in memory)
      const copy = async (sql: string, line: (day: string) => string) =>
        pipeline(
          Readable.from(
            (function* () {
              for (const day of days) yield line(day);
            })(),
          ),
          client.query(copyFrom(sql)),
        );
      // the metrics rows the validation reads: each day's betas, specific vol and return
      const columns = factors.map((f) => f.metricColumn).join(', ');
      await copy(
        `COPY symbol_daily_metrics (symbol, metric_date, return_1d, ${columns}, specific_vol) FROM STDIN`,
        (day) =>
          symbols
            .map(
              (s) =>
                `${s}\t${day}\t${(rng.next() * 0.04 - 0.02).toFixed(6)}\t${factors
                  .map(() => (rng.next() * 2 - 0.5).toFixed(6))
                  .join('\t')}\t${(0.15 + 0.3 * rng.next()).toFixed(6)}\n`,
            )
            .join(''),
      );
      const cov = `{${Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 0.04 : 0.01)).join(',')}}`;
      const pcov = `{${Array.from({ length: 49 }, (_, i) => (i % 8 === 0 ? 0.04 : 0.01)).join(',')}}`;
      const names = `{${factors.map((f) => `"${f.name}"`).join(',')}}`;
      const proxies = `{SPY,${factors.map((f) => f.longProxy).join(',')}}`;
      await copy(
        'COPY risk_models (calculation_date, half_life, window_days, factors, covariance, observations, proxies, proxy_covariance, proxy_observations) FROM STDIN',
        (day) => `${day}\t${config.riskHalfLife}\t365\t${names}\t${cov}\t250\t${proxies}\t${pcov}\t250\n`,
      );
    } finally {
      client.release();
    }
    await d.pool.query('VACUUM ANALYZE');
    console.log(
      `10,000 symbols: ${days.length} days of forecasts written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const asOf = days.at(-1)!;
    for (const T of WINDOWS) {
      const v = await validateRiskModel(d.pool, model, config.riskHalfLife, asOf, T);
      rows.push({
        name: `risk-model validation, 10,000 symbols, T = ${T}`,
        runsMs: await time(() => validateRiskModel(d.pool, model, config.riskHalfLife, asOf, T)),
        note: `${v.specific.symbols} symbols in the specific summary`,
      });
    }
    await d.close();
  }
  console.log('\n### Forecast validation (METHODOLOGY §14), bulk loads included\n');
  console.log('| measurement | runs (ms) | median (ms) | note |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.runsMs.map((x) => x.toFixed(0)).join(', ')} | ${median(r.runsMs).toFixed(0)} | ${r.note ?? ''} |`,
    );
} finally {
  await done();
}
