/**
 * Portfolio benchmark (npm run bench:portfolios): 1,000 portfolios × 50 positions (10% options) over a
 * 10,000-symbol universe, one date: P&L, snapshots, Greeks, exposures, risk, VaR, stress tests and
 * attribution end to end (`runPortfolios`: bulk reads, compute, batched upserts), and the same run with
 * the risk reports off, so the difference is what they add. Also the what-if of a 500-position book
 * with its risk (`whatIf`, the server's work without HTTP). Prints tables of medians.
 */
import { Random } from '../src/demo/random.ts';
import { runFactors } from '../src/factors/run.ts';
import { runMetrics } from '../src/metrics/run.ts';
import { importPrices } from '../src/imports/prices.ts';
import { optionSymbol } from '../src/portfolios/position.ts';
import { runPortfolios, whatIf } from '../src/portfolios/run.ts';
import { loadModel } from '../src/factors/model.ts';
import { HISTORICAL_DAYS } from '../src/risk/day-panel.ts';
import { runRiskModel } from '../src/risk/model.ts';
import { DayPanelCache } from '../src/risk/panel-cache.ts';
import { DEFAULT_RISK_SETTINGS } from '../src/risk/report.ts';
import { loadReturnHistory } from '../src/risk/store.ts';
import { createUser } from '../src/users/users.ts';
import { benchServer, freshDatabase, median, printTable, writeGeneratedUniverse } from './harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// BENCH_PORTFOLIOS=10000 measures the seed's own goal (10,000 × 50 in a few seconds)
const PORTFOLIOS = Number(process.env.BENCH_PORTFOLIOS ?? 1000);
const POSITIONS = 50;

const { server, done } = await benchServer();
try {
  const d = await freshDatabase(server.adminUrl, 'bench_portfolios');
  const m = writeGeneratedUniverse(10_000 - 8, 300);
  await importPrices(d.pool, m.file);
  // Measure the steady state: autovacuum would otherwise be working through the fresh rows meanwhile.
  await d.pool.query('VACUUM ANALYZE market_data_cache');
  const [P, D] = m.dates.slice(-2) as [string, string];
  // the phases before the portfolios in the daily batch: betas and symbol metrics (with realised vols)
  for (const date of [P, D]) {
    await runFactors(d.db, d.pool, { date, batchSize: 500 });
    await runMetrics(d.db, d.pool, date);
    await runRiskModel(d.db, d.pool, { date });
  }

  // 1,000 portfolios of 45 stocks and 5 options on stocks of the universe.
  const owner = await createUser(d.db, { username: 'bench', password: 'bench-password' });
  const rng = new Random(7);
  const stocks = m.stocks;
  const last = m.lastClose;
  const ids = await d.pool.query<{ id: number }>(
    'INSERT INTO portfolios (owner_id, name, equity_balance) SELECT $1, $2 || g, 10000000 FROM generate_series(1, $3) g RETURNING id',
    [owner, 'Bench ', PORTFOLIOS],
  );
  const cols: unknown[][] = [[], [], [], [], [], [], [], []];
  for (const { id } of ids.rows) {
    const picks = rng.shuffle(stocks).slice(0, POSITIONS);
    picks.forEach((symbol, i) => {
      const option = i >= POSITIONS - 5;
      const type = option ? rng.pick(['LC', 'LP', 'SC', 'SP'] as const) : rng.next() < 0.7 ? 'LONG' : 'SHORT';
      const short = type === 'SHORT' || type === 'SC' || type === 'SP';
      const qty = option ? rng.int(1, 20) : Math.max(1, Math.round(200_000 / last.get(symbol)!));
      const strike = Math.round(last.get(symbol)! * rng.uniform(0.9, 1.1)) || 1;
      const expiry = '2027-03-19';
      cols[0]!.push(id);
      cols[1]!.push(option ? optionSymbol(symbol, expiry, type === 'LC' || type === 'SC', strike) : symbol);
      cols[2]!.push(type);
      cols[3]!.push(short ? -qty : qty);
      cols[4]!.push(option ? symbol : null);
      cols[5]!.push(option ? strike : null);
      cols[6]!.push(option ? expiry : null);
      cols[7]!.push(option && rng.next() < 0.5 ? 0.3 : null);
    });
  }
  await d.pool.query(
    `INSERT INTO positions (portfolio_id, symbol, position_type, quantity, underlying_symbol, strike_price, expiration_date, multiplier, implied_volatility)
     SELECT p, s, t, q, u, k, e, CASE WHEN u IS NULL THEN 1 ELSE 100 END, v
       FROM unnest($1::int[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::float8[], $7::date[], $8::float8[]) AS x(p, s, t, q, u, k, e, v)`,
    cols,
  );
  await runPortfolios(d.db, d.pool, { date: P }); // the day before, so D has P&L to compute
  const measureRun = async (withRisk: boolean) => {
    const total: number[] = [];
    // CPU time of this Node process (not PostgreSQL's): on a shared machine wall time also counts the waits
    const cpu: number[] = [];
    const phases = { loadMs: [] as number[], computeMs: [] as number[], writeMs: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      // each run writes D from nothing, as the daily batch does (untimed clean-up of the previous run)
      for (const [table, column] of [
        ['position_daily_values', 'value_date'],
        ['portfolio_snapshots', 'snapshot_date'],
        ['factor_exposures', 'calculation_date'],
        ['stress_test_results', 'calculation_date'],
        ['portfolio_risk', 'calculation_date'],
        ['portfolio_attribution', 'calculation_date'],
      ] as const) {
        await d.pool.query(`DELETE FROM ${table} WHERE ${column} = $1`, [D]);
      }
      await d.pool.query(
        'VACUUM ANALYZE position_daily_values, portfolio_snapshots, factor_exposures, stress_test_results, portfolio_risk, portfolio_attribution',
      );
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await runPortfolios(d.db, d.pool, { date: D, withRisk });
      total.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      for (const k of ['loadMs', 'computeMs', 'writeMs'] as const) phases[k].push(r.timings[k]);
      if (i === 0)
        console.log(`${r.portfolios} portfolios, ${r.positions} positions, betas of ${r.betasDate}`);
    }
    return { total, cpu, phases };
  };
  const off = await measureRun(false);
  const on = await measureRun(true);
  const added = on.total.map((x, i) => x - off.total[i]!);

  // what-if: a 500-position book (450 stocks, 50 options) with its risk report, as the route computes it
  const book = rng
    .shuffle(stocks)
    .slice(0, 500)
    .map((symbol, i) => {
      const option = i >= 450;
      return {
        id: i + 1,
        symbol: option
          ? optionSymbol(symbol, '2027-03-19', true, Math.round(last.get(symbol)!) || 1)
          : symbol,
        positionType: option ? ('LC' as const) : ('LONG' as const),
        quantity: option ? 5 : 100,
        entryPrice: null,
        entryDate: null,
        exitDate: null,
        underlyingSymbol: option ? symbol : null,
        strikePrice: option ? Math.round(last.get(symbol)!) || 1 : null,
        expirationDate: option ? '2027-03-19' : null,
        multiplier: option ? 100 : 1,
        impliedVolatility: null,
      };
    });
  const whatIfRuns: number[] = [];
  const whatIfCpu: number[] = [];
  for (let i = 0; i < Math.max(RUNS, 10); i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await whatIf(d.db, d.pool, book, D, 50_000_000);
    whatIfRuns.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    whatIfCpu.push((c.user + c.system) / 1000);
    if (!r.risk) throw new Error('what-if returned no risk report');
  }
  // the server's path: the panel of every symbol of D read on the first request, then from memory
  const panels = new DayPanelCache(2, () => true);
  const memoryRuns: number[] = [];
  const memoryCpu: number[] = [];
  for (let i = 0; i < Math.max(RUNS, 10) + 1; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await whatIf(d.db, d.pool, book, D, 50_000_000, 'symbol', DEFAULT_RISK_SETTINGS, panels);
    memoryRuns.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    memoryCpu.push((c.user + c.system) / 1000);
    if (!r.risk) throw new Error('what-if returned no risk report');
  }
  // the anchor: the 250-day return panel of every symbol alone (the one query the stage and the
  // first what-if of a date make), PostgreSQL's aggregation plus the decode into the matrix
  const calendar = (await loadModel(d.db)).settings.calendarSymbol;
  const panelRuns: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await loadReturnHistory(d.pool, calendar, D, HISTORICAL_DAYS, null);
    panelRuns.push(performance.now() - t0);
  }
  await d.close();
  printTable(
    `Portfolios: ${PORTFOLIOS} × ${POSITIONS} positions (10% options), 10,000-symbol universe, one date (${RUNS} runs)`,
    [
      {
        name: 'end to end with risk, VaR, stress, attribution',
        runsMs: on.total,
        note: 'target < 2 s',
      },
      {
        name: '  load (positions, quotes, vols, betas, risk inputs, 250-day returns)',
        runsMs: on.phases.loadMs,
      },
      { name: '  compute', runsMs: on.phases.computeMs },
      { name: '  write (batches of 100 portfolios)', runsMs: on.phases.writeMs },
      { name: 'end to end without the risk reports', runsMs: off.total },
      { name: '  load', runsMs: off.phases.loadMs },
      { name: '  compute', runsMs: off.phases.computeMs },
      { name: '  write', runsMs: off.phases.writeMs },
      { name: 'added by risk, VaR, stress, attribution (run by run)', runsMs: added, note: 'target < 0.5 s' },
      { name: 'Node CPU time, with the risk reports', runsMs: on.cpu },
      { name: 'Node CPU time, without', runsMs: off.cpu },
      { name: 'Node CPU time added by the risk reports', runsMs: on.cpu.map((x, i) => x - off.cpu[i]!) },
      {
        name: "what-if, 500 positions, with risk, reading the book's panel (no HTTP)",
        runsMs: whatIfRuns,
      },
      {
        name: 'what-if, the first request of a date (reads the panel of every symbol)',
        runsMs: memoryRuns.slice(0, 1),
      },
      {
        name: 'what-if, 500 positions, with risk, panel in memory (the server, no HTTP)',
        runsMs: memoryRuns.slice(1),
        note: 'target < 50 ms',
      },
      { name: 'anchor: the 250-day return panel of every symbol alone', runsMs: panelRuns },
    ],
  );
  console.log(
    `\nwhat-if, 500 positions, with risk: median ${median(whatIfRuns).toFixed(1)} ms wall, ${median(whatIfCpu).toFixed(1)} ms Node CPU (runs: ${whatIfRuns.map((x) => x.toFixed(1)).join(', ')} ms)`,
  );
  console.log(
    `what-if, panel in memory: median ${median(memoryRuns.slice(1)).toFixed(1)} ms wall, ${median(memoryCpu.slice(1)).toFixed(1)} ms Node CPU; first request ${memoryRuns[0]!.toFixed(1)} ms`,
  );
} finally {
  await done();
}
