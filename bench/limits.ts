/**
 * Benchmarks, limits and reports (npm run bench:limits): 1,000 portfolios × 50 stock positions over a
 * generated universe, one date. The portfolio stage with its risk reports, without the active numbers
 * and limit checks, then with a benchmark on every portfolio (half a symbol, half another portfolio)
 * and ten limits each: the difference is what METHODOLOGY §15 adds. Then a report render (the stored
 * figures read, and the XLSX and the PDF written). Prints medians.
 */
import { Random } from '../src/demo/random.ts';
import { runFactors } from '../src/factors/run.ts';
import { importPrices } from '../src/imports/prices.ts';
import { runPortfolios } from '../src/portfolios/run.ts';
import { loadReportData } from '../src/reports/data.ts';
import { renderPdf } from '../src/reports/pdf.ts';
import { renderXlsx } from '../src/reports/xlsx.ts';
import { runRiskModel } from '../src/risk/model.ts';
import { createUser } from '../src/users/users.ts';
import type { Db } from '../src/db/connection.ts';
import { benchServer, freshDatabase, median, printTable, writeGeneratedUniverse } from './harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PORTFOLIOS = 1000;
const POSITIONS = 50;
const STOCKS = Number(process.env.BENCH_STOCKS ?? 2000);

const { server, done } = await benchServer();
let opened: Db | undefined;
try {
  const d = await freshDatabase(server.adminUrl, 'bench_limits');
  opened = d;
  const m = writeGeneratedUniverse(STOCKS - 8, 300);
  await importPrices(d.pool, m.file);
  await d.pool.query('VACUUM ANALYZE market_data_cache');
  const [P, D] = m.dates.slice(-2) as [string, string];
  for (const date of [P, D]) {
    await runFactors(d.db, d.pool, { date, batchSize: 500 });
    await runRiskModel(d.db, d.pool, { date });
  }
  const owner = await createUser(d.db, { username: 'bench', password: 'bench-password' });
  const rng = new Random(11);
  const ids = (
    await d.pool.query<{ id: number }>(
      'INSERT INTO portfolios (owner_id, name, equity_balance) SELECT $1, $2 || g, 10000000 FROM generate_series(1, $3) g RETURNING id',
      [owner, 'Bench ', PORTFOLIOS],
    )
  ).rows.map((r) => r.id);
  const cols: unknown[][] = [[], [], [], []];
  for (const id of ids)
    for (const symbol of rng.shuffle(m.stocks).slice(0, POSITIONS)) {
      const short = rng.next() < 0.3;
      const qty = Math.max(1, Math.round(200_000 / m.lastClose.get(symbol)!));
      cols[0]!.push(id);
      cols[1]!.push(symbol);
      cols[2]!.push(short ? 'SHORT' : 'LONG');
      cols[3]!.push(short ? -qty : qty);
    }
  await d.pool.query(
    `INSERT INTO positions (portfolio_id, symbol, position_type, quantity)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::float8[])`,
    cols,
  );
  await runPortfolios(d.db, d.pool, { date: P });

  const measure = async (withActive: boolean) => {
    const total: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const [table, column] of [
        ['position_daily_values', 'value_date'],
        ['portfolio_snapshots', 'snapshot_date'],
        ['factor_exposures', 'calculation_date'],
        ['stress_test_results', 'calculation_date'],
        ['portfolio_risk', 'calculation_date'],
        ['portfolio_attribution', 'calculation_date'],
        ['portfolio_active_days', 'calculation_date'],
        ['portfolio_limit_breaches', 'breach_date'],
      ] as const)
        await d.pool.query(`DELETE FROM ${table} WHERE ${column} = $1`, [D]);
      await d.pool.query('VACUUM ANALYZE');
      const t0 = performance.now();
      const r = await runPortfolios(d.db, d.pool, { date: D, withActive });
      total.push(performance.now() - t0);
      if (r.failures.length) throw new Error(JSON.stringify(r.failures));
    }
    return total;
  };
  const without = await measure(false);
  // every portfolio a benchmark: odd ids a symbol, even ids the portfolio before them; ten limits each
  await d.pool.query(
    `UPDATE portfolios SET benchmark_symbol = CASE WHEN id % 2 = 1 THEN 'SPY' END,
       benchmark_portfolio_id = CASE WHEN id % 2 = 0 THEN id - 1 END WHERE id = ANY($1)`,
    [ids],
  );
  await d.pool.query(
    `INSERT INTO portfolio_limits (portfolio_id, name, metric, factor, method, confidence, lower, upper)
     SELECT p, l.name, l.metric, l.factor, l.method, l.confidence, l.lower, l.upper
       FROM unnest($1::int[]) p,
            (VALUES ('Value', 'exposure', 'Value', NULL, NULL::float8, -0.5, 0.5),
                    ('Growth', 'exposure', 'Growth', NULL, NULL, -0.5, 0.5),
                    ('Momentum', 'exposure', 'Momentum', NULL, NULL, -0.5, 0.5),
                    ('Size active', 'active_exposure', 'Size', NULL, NULL, -0.3, 0.3),
                    ('Beta active', 'active_exposure', 'Market Beta', NULL, NULL, -0.2, 0.2),
                    ('Risk', 'total_risk', NULL, NULL, NULL, NULL, 0.2),
                    ('TE', 'tracking_error', NULL, NULL, NULL, NULL, 0.05),
                    ('VaR 95', 'var', NULL, 'parametric', 0.95, NULL, 150000),
                    ('VaR 99 hist', 'var', NULL, 'historical', 0.99, NULL, 250000),
                    ('Max weight', 'max_position_weight', NULL, NULL, NULL, NULL, 0.025))
              AS l(name, metric, factor, method, confidence, lower, upper)`,
    [ids],
  );
  const withAll = await measure(true);
  const added = withAll.map((x, i) => x - without[i]!);
  const breaches = (await d.pool.query('SELECT count(*)::int AS n FROM portfolio_limit_breaches')).rows[0].n;

  const render = async (fmt: 'xlsx' | 'pdf') => {
    const runs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const data = (await loadReportData(d.pool, ids[1]!, D, 'SPY'))!;
      await (fmt === 'xlsx' ? renderXlsx(data) : renderPdf(data));
      runs.push(performance.now() - t0);
    }
    return runs;
  };
  const pdf = await render('pdf');
  const xlsx = await render('xlsx');
  console.log(
    `${PORTFOLIOS} portfolios × ${POSITIONS} positions, ${STOCKS} symbols; ${breaches} breaches stored on ${D}`,
  );
  printTable('Benchmarks, limits and reports', [
    { name: 'portfolio stage with risk, no active numbers or limits', runsMs: without },
    { name: 'the same with a benchmark and ten limits on each portfolio', runsMs: withAll },
    { name: 'added (run by run)', runsMs: added, note: 'target < 0.5 s' },
    { name: 'PDF report (read + render)', runsMs: pdf, note: 'target < 300 ms' },
    { name: 'XLSX report (read + render)', runsMs: xlsx, note: 'target < 300 ms' },
  ]);
  console.log(
    `\nmedians: added ${median(added).toFixed(0)} ms; PDF ${median(pdf).toFixed(1)} ms; XLSX ${median(xlsx).toFixed(1)} ms`,
  );
} catch (e) {
  // printed before the server stops: stopping it first ends the pool's connections (57P01), and
  // that error would be the only one seen
  console.error(e);
  process.exitCode = 1;
} finally {
  await opened?.close();
  await done();
}
