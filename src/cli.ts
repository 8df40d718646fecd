import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { openDatabase, type Db } from './db/connection.ts';
import { migrateToLatest } from './db/migrate.ts';
import { loadDemoMarket } from './demo/load.ts';
import { ImportError } from './imports/csv.ts';
import { importCompanies } from './imports/companies.ts';
import { importPortfolio } from './imports/portfolio.ts';
import { importPrices } from './imports/prices.ts';
import { runMainJob } from './main-job.ts';
import { serve } from './api/serve.ts';
import { backfill } from './batch/backfill.ts';
import { compareDualWrite } from './batch/compare.ts';
import { progressReporter } from './batch/progress.ts';
import { DateLockedError, runDate, type DateReport } from './batch/runner.ts';
import { tradingDayOnOrBefore } from './market/closes.ts';
import { writeFileSync } from 'node:fs';
import { runFactors } from './factors/run.ts';
import { loadModel } from './factors/model.ts';
import { runMetrics } from './metrics/run.ts';
import { runPortfolios, whatIf } from './portfolios/run.ts';
import { readPositionsCsv } from './imports/portfolio.ts';
import { parseReadPath } from './config.ts';
import { formatTable } from './table.ts';
import { isIsoDate } from './imports/fields.ts';
import { createUser } from './users/users.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

interface Command {
  usage: string;
  summary: string;
  options?: Options;
  /** Returns the exit code. */
  run(args: { values: Values; positionals: string[]; db: () => Promise<Db> }): Promise<number>;
}

class UsageError extends Error {}

const str = (v: Values, name: string): string | undefined =>
  typeof v[name] === 'string' ? (v[name] as string) : undefined;
function positiveNumber(v: Values, name: string): number | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${s}"`);
  return n;
}
function dateOption(v: Values): string {
  const date = str(v, 'date');
  if (!date || !isIsoDate(date))
    throw new UsageError(`--date must be a date YYYY-MM-DD, got "${date ?? ''}"`);
  return date;
}
const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(2)}%`);
const num = (x: number | null, digits = 2) =>
  x === null
    ? ''
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function onePath(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}`);
  return path.resolve(positionals[0]!);
}

const COMMANDS: Record<string, Command> = {
  start: {
    usage: 'start [--no-serve]',
    summary:
      'the main job: start the database, migrate, load the demo market if empty, run the batch, serve the API',
    options: { 'no-serve': { type: 'boolean' } },
    run: async ({ values }) => runMainJob(loadConfig(), { serve: values['no-serve'] !== true }),
  },
  serve: {
    usage: 'serve [--port 3000]',
    summary: 'serve the HTTP API (OpenAPI at /docs)',
    options: { port: { type: 'string' } },
    run: async ({ values }) => {
      const config = loadConfig();
      const d = await openDatabase(config, { api: true }); // the API's timeouts, not a command's
      try {
        await serve(d, config, positiveNumber(values, 'port'));
      } finally {
        await d.close();
      }
      return 0;
    },
  },
  'db migrate': {
    usage: 'db migrate',
    summary: 'apply pending schema migrations',
    run: async ({ db }) => {
      const d = await db();
      const applied = await migrateToLatest(d.db);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is up to date.');
      return 0;
    },
  },
  'import prices': {
    usage: 'import prices PATH',
    summary:
      'daily closes: a long CSV/.csv.gz (symbol,date,close[,open,high,low,volume]) or a folder of SYMBOL.csv',
    run: async ({ positionals, db }) => {
      const target = onePath(positionals, 'file or folder');
      const d = await db();
      const started = performance.now();
      const summary = await importPrices(d.pool, target, (r) => {
        if (r instanceof ImportError) console.error(r.message);
        else
          console.log(
            `${path.basename(r.file)}: ${r.rows} rows, ${r.symbols} symbols: ${r.inserted} new, ${r.updated} changed, ${r.unchanged} unchanged`,
          );
      });
      const files = summary.results.length + summary.failures.length;
      console.log(
        `${summary.results.length} of ${files} file(s) imported in ${((performance.now() - started) / 1000).toFixed(1)} s` +
          (summary.failures.length ? `; ${summary.failures.length} rejected` : ''),
      );
      return summary.failures.length ? 1 : 0;
    },
  },
  'import companies': {
    usage: 'import companies PATH',
    summary: 'company profiles (columns of companies.csv; extra columns kept)',
    run: async ({ positionals, db }) => {
      const d = await db();
      const r = await importCompanies(d.pool, onePath(positionals, 'file'));
      console.log(`${r.rows} companies: ${r.written} written, ${r.unchanged} unchanged`);
      return 0;
    },
  },
  'import portfolio': {
    usage: 'import portfolio PATH --name NAME --owner USER [--equity AMOUNT] [--currency USD]',
    summary: "a portfolio's full position list (replaces the portfolio's positions)",
    options: {
      name: { type: 'string' },
      owner: { type: 'string' },
      equity: { type: 'string' },
      currency: { type: 'string' },
    },
    run: async ({ values, positionals, db }) => {
      const name = str(values, 'name');
      const owner = str(values, 'owner');
      if (!name || !owner) throw new UsageError('--name and --owner are required');
      const currency = str(values, 'currency');
      if (currency !== undefined && !/^[A-Z]{3}$/.test(currency))
        throw new UsageError('--currency must be a 3-letter ISO code');
      const d = await db();
      const r = await importPortfolio(d.pool, onePath(positionals, 'file'), {
        name,
        owner,
        equity: positiveNumber(values, 'equity'),
        currency,
      });
      console.log(
        `Portfolio "${name}" (id ${r.portfolioId}${r.created ? ', new' : ''}): ${r.positions} positions: ` +
          `${r.inserted} new, ${r.updated} changed, ${r.deleted} removed`,
      );
      return 0;
    },
  },
  'factors run': {
    usage: 'factors run --date YYYY-MM-DD [--force] [--batch-size 15] [--concurrency 5]',
    summary:
      'compute the factor betas of every universe symbol for a date (cached symbols skipped unless --force)',
    options: {
      date: { type: 'string' },
      force: { type: 'boolean' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
    },
    run: async ({ values, db }) => {
      const date = dateOption(values);
      const config = loadConfig();
      const d = await db();
      const r = await runFactors(d.db, d.pool, {
        date,
        force: values.force === true,
        batchSize: positiveNumber(values, 'batch-size') ?? config.factorBatchSize,
        maxConcurrentBatches: positiveNumber(values, 'concurrency') ?? config.maxConcurrentBatches,
      });
      const skipped = Object.entries(r.skipped).filter(([, n]) => n > 0);
      console.log(
        `Factors for ${r.calculationDate}${r.calculationDate !== r.requestedDate ? ` (last trading day on or before ${r.requestedDate})` : ''}: ` +
          `${r.symbols} symbols in ${r.batches} batches, ${r.betasWritten} betas written` +
          (skipped.length
            ? `, not computable: ${skipped.map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`).join(', ')}`
            : '') +
          (r.alreadyCached ? `; ${r.alreadyCached} symbols already cached (use --force to recompute)` : '') +
          (r.legacy
            ? `; dual-write: ${r.legacy.rows} position rows for ${r.legacy.positions} open positions`
            : '') +
          `\nTimings: load ${r.timings.loadMs.toFixed(0)} ms, compute ${r.timings.computeMs.toFixed(0)} ms, write ${r.timings.writeMs.toFixed(0)} ms` +
          (r.legacy ? `, legacy per-position path ${r.timings.legacyMs.toFixed(0)} ms` : ''),
      );
      for (const f of r.failures) console.error(`Batch failed (${f.symbols.join(', ')}): ${f.error}`);
      return r.failures.length ? 1 : 0;
    },
  },
  'metrics run': {
    usage: 'metrics run --date YYYY-MM-DD',
    summary: 'symbol returns, valuation and betas of every universe symbol for a date (symbol_daily_metrics)',
    options: { date: { type: 'string' } },
    run: async ({ values, db }) => {
      const d = await db();
      const r = await runMetrics(d.db, d.pool, dateOption(values));
      console.log(
        `Metrics for ${r.metricDate}: ${r.symbols} symbols, ${r.written} rows written ` +
          `(load ${r.timings.loadMs.toFixed(0)} ms, compute ${r.timings.computeMs.toFixed(0)} ms, write ${r.timings.writeMs.toFixed(0)} ms)`,
      );
      return 0;
    },
  },
  'portfolios run': {
    usage: 'portfolios run --date YYYY-MM-DD [--read-path symbol|position|symbol_with_fallback]',
    summary: 'P&L, snapshots, Greeks, factor exposures and stress tests of every portfolio for a date',
    options: { date: { type: 'string' }, 'read-path': { type: 'string' } },
    run: async ({ values, db }) => {
      const readPath = str(values, 'read-path');
      const config = loadConfig();
      const d = await db();
      const r = await runPortfolios(d.db, d.pool, {
        date: dateOption(values),
        readPath: readPath ? parseReadPath(readPath) : config.readPath,
        maxConcurrentBatches: config.maxConcurrentBatches,
      });
      console.log(
        `Portfolios for ${r.date} (betas of ${r.betasDate ?? 'none'}): ${r.portfolios} portfolios, ${r.positions} positions ` +
          `(load ${r.timings.loadMs.toFixed(0)} ms, compute ${r.timings.computeMs.toFixed(0)} ms, write ${r.timings.writeMs.toFixed(0)} ms)`,
      );
      for (const f of r.failures) console.error(`Portfolios ${f.portfolioIds.join(', ')} failed: ${f.error}`);
      return r.failures.length ? 1 : 0;
    },
  },
  'what-if': {
    usage: 'what-if FILE --date YYYY-MM-DD [--equity 1000000]',
    summary: 'factor exposures of hypothetical positions (a portfolio CSV), stored nowhere',
    options: { date: { type: 'string' }, equity: { type: 'string' } },
    run: async ({ values, positionals, db }) => {
      const file = onePath(positionals, 'positions file');
      const date = dateOption(values);
      const positions = (await readPositionsCsv(file)).map((p, i) => ({ ...p, id: i + 1 }));
      const d = await db();
      const r = await whatIf(d.db, d.pool, positions, date, positiveNumber(values, 'equity') ?? 1_000_000);
      const { day, model } = r;
      console.log(
        `What-if on ${r.date} (betas of ${r.betasDate ?? 'none'}), equity ${num(day.snapshot.equity)}\n`,
      );
      console.log(
        formatTable(
          ['symbol', 'type', 'quantity', 'price', 'delta', 'exposure', 'weight'],
          day.values.map((v, i) => [
            v.symbol,
            positions[i]!.positionType,
            num(positions[i]!.quantity, 0),
            num(v.price),
            v.option ? num(v.option.delta, 4) : v.expired ? 'expired' : '1',
            num(v.exposure),
            pct(v.exposure === null ? null : v.exposure / day.snapshot.equity),
          ]),
        ),
      );
      console.log('');
      console.log(
        formatTable(
          ['factor', 'exposure', 'dollar exposure', 'positions missing a beta'],
          model.factors.map((f, i) => [
            f.name,
            num(day.exposure.exposure[i]!, 4),
            num(day.exposure.dollar[i]!),
            day.exposure.missing[i]!.map((m) => m.symbol).join(' ') || '-',
          ]),
        ),
      );
      console.log('');
      console.log(
        formatTable(
          ['stress scenario', 'P&L', 'of equity'],
          day.stress.map((s) => [s.scenario, num(s.pnl), pct(s.pnl / day.snapshot.equity)]),
        ),
      );
      return 0;
    },
  },
  'batch run': {
    usage: 'batch run [--date YYYY-MM-DD] [--force]',
    summary: 'run every phase of the daily batch for a date (default: the last trading day with prices)',
    options: { date: { type: 'string' }, force: { type: 'boolean' } },
    run: async ({ values, db }) => {
      const d = await db();
      const requested = str(values, 'date') === undefined ? '9999-12-31' : dateOption(values);
      const date = await tradingDayOnOrBefore(
        d.pool,
        (await loadModel(d.db)).settings.calendarSymbol,
        requested,
      );
      if (!date) throw new Error(`no trading day on or before ${requested}: import prices first`);
      const report = await runDate(d.db, d.pool, loadConfig(), date, { force: values.force === true });
      printDateReport(report);
      return report.failed ? 1 : 0;
    },
  },
  'batch backfill': {
    usage: 'batch backfill [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--force]',
    summary:
      'run the daily batch for every trading day of a range, resumably (default: after the last completed date)',
    options: { from: { type: 'string' }, to: { type: 'string' }, force: { type: 'boolean' } },
    run: async ({ values, db }) => {
      for (const k of ['from', 'to']) {
        const v = str(values, k);
        if (v !== undefined && !isIsoDate(v))
          throw new UsageError(`--${k} must be a date YYYY-MM-DD, got "${v}"`);
      }
      const d = await db();
      const started = performance.now();
      const reports = await backfill(d.db, d.pool, loadConfig(), {
        from: str(values, 'from'),
        to: str(values, 'to'),
        force: values.force === true,
        onDate: progressReporter(),
      });
      const failed = reports.filter((r) => r.failed);
      console.log(
        reports.length === 0
          ? 'Nothing to backfill: every date of the range is complete.'
          : `Backfilled ${reports.length} dates (${reports[0]!.date} to ${reports.at(-1)!.date}) in ${((performance.now() - started) / 1000).toFixed(1)} s` +
              (failed.length ? `; ${failed.length} with failures (see batch_runs)` : ''),
      );
      return failed.length ? 1 : 0;
    },
  },
  compare: {
    usage: 'compare --start-date YYYY-MM-DD --end-date YYYY-MM-DD [--output report.json]',
    summary: 'compare the legacy per-position exposures with the symbol-level ones (dual-write validation)',
    options: { 'start-date': { type: 'string' }, 'end-date': { type: 'string' }, output: { type: 'string' } },
    run: async ({ values, db }) => {
      const start = str(values, 'start-date');
      const end = str(values, 'end-date');
      if (!start || !isIsoDate(start) || !end || !isIsoDate(end))
        throw new UsageError('--start-date and --end-date must be dates YYYY-MM-DD');
      const d = await db();
      const report = await compareDualWrite(d.pool, start, end);
      const output = str(values, 'output');
      if (output) writeFileSync(output, JSON.stringify(report, null, 2) + '\n');
      console.log(
        `${report.dates_analyzed} dates, ${report.total_comparisons} position comparisons: match rate ${(report.match_rate * 100).toFixed(2)}%, ` +
          `${report.discrepancies.length} discrepancies, ${report.missing_symbols.length} missing symbols; ` +
          `portfolio aggregates ${(report.portfolio_comparison.match_rate * 100).toFixed(2)}% of ${report.portfolio_comparison.total_comparisons}`,
      );
      for (const x of report.discrepancies.slice(0, 10)) {
        console.log(
          `  ${x.date} position ${x.position_id} ${x.symbol} ${x.factor}: symbol ${x.symbol_value} vs position ${x.position_value}`,
        );
      }
      console.log(`Recommendation: ${report.recommendation}${output ? ` (report: ${output})` : ''}`);
      return report.recommendation === 'SAFE_TO_DEPRECATE' ? 0 : 1;
    },
  },
  'users create': {
    usage: 'users create USERNAME [--admin] [--replace]   (password from FU_NEW_PASSWORD or --password)',
    summary: 'create a user (or reset one with --replace)',
    options: { password: { type: 'string' }, admin: { type: 'boolean' }, replace: { type: 'boolean' } },
    run: async ({ values, positionals, db }) => {
      if (positionals.length !== 1) throw new UsageError('expected one USERNAME');
      const password = str(values, 'password') ?? process.env.FU_NEW_PASSWORD;
      if (!password) throw new UsageError('give the password in FU_NEW_PASSWORD (or --password)');
      const d = await db();
      const id = await createUser(
        d.db,
        { username: positionals[0]!, password, isAdmin: values.admin === true },
        values.replace === true,
      );
      console.log(`User ${positionals[0]} (id ${id}) saved.`);
      return 0;
    },
  },
  'demo load': {
    usage: 'demo load [--stocks 500] [--seed N]',
    summary: 'generate the deterministic demo market and import it',
    options: { stocks: { type: 'string' }, seed: { type: 'string' } },
    run: async ({ values, db }) => {
      const config = loadConfig();
      const d = await db();
      const r = await loadDemoMarket(d.db, d.pool, path.join(config.dataDir, 'demo'), config.demoPassword, {
        stocks: positiveNumber(values, 'stocks'),
        seed: positiveNumber(values, 'seed'),
      });
      console.log(
        `Demo market: ${r.symbols} symbols × ${r.dates} days, ${r.portfolios} portfolios; files in ${r.folder}`,
      );
      return 0;
    },
  },
};

function printDateReport(r: DateReport): void {
  console.log(`Batch for ${r.date} (run ${r.runId}):`);
  console.log(
    formatTable(
      ['phase', 'status', 'items', 'failed', 'seconds', 'note'],
      r.phases.map((p) => [
        p.phase,
        p.status,
        String(p.itemsTotal),
        String(p.itemsFailed),
        (p.durationMs / 1000).toFixed(2),
        p.error ?? p.note ?? '',
      ]),
    ),
  );
}

function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  factor-universe ${c.usage}\n      ${c.summary}`);
  return `Usage:\n${lines.join('\n')}\n\nConfiguration: DATABASE_URL (external PostgreSQL; default embedded), FU_DATA_DIR, FU_PG_PORT, FU_CONFIG.`;
}

export async function main(argv: string[]): Promise<number> {
  const key = [argv.slice(0, 2).join(' '), argv[0] ?? ''].find((k) => k in COMMANDS);
  if (!key || argv.includes('--help') || argv.includes('-h')) {
    console.log(help());
    return key || argv.length === 0 || argv.includes('--help') ? 0 : 2;
  }
  const command = COMMANDS[key]!;
  let opened: Db | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv.slice(key.split(' ').length),
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    return await command.run({
      values,
      positionals,
      db: async () => (opened ??= await openDatabase(loadConfig())),
    });
  } catch (e) {
    if (e instanceof DateLockedError) {
      console.error(e.message);
      return 3;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(e as Error).message}\nUsage: factor-universe ${command.usage}`);
      return 2;
    }
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  } finally {
    await opened?.close();
  }
}
