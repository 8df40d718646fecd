/**
 * The `factor-universe` command table. Each command lives in a module of its own, imported only
 * when that command runs, so `--help` and every command load just what they use.
 * To add a command: write `src/cli/<name>.ts` exporting a `CommandModule` and add one line here.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { Shutdown } from '../shutdown.ts';
import { UsageError, type CommandModule } from './options.ts';
import { PORTFOLIO_CSV_HELP } from './portfolio-csv.ts';

interface Entry {
  usage: string;
  summary: string;
  /** More than the usage line, printed by `COMMAND --help` (e.g. a file's columns). */
  details?: string;
  load: () => Promise<CommandModule>;
}

const COMMANDS: Record<string, Entry> = {
  start: {
    usage: 'start [--no-serve]',
    summary:
      'the main job: start the database, migrate, load the demo market if empty, run the batch, serve the API',
    load: () => import('./start.ts').then((m) => m.start),
  },
  serve: {
    usage: 'serve [--port 3000]',
    summary: 'serve the HTTP API (OpenAPI at /docs)',
    load: () => import('./serve.ts').then((m) => m.serve),
  },
  'db migrate': {
    usage: 'db migrate',
    summary: 'apply pending schema migrations',
    load: () => import('./db-migrate.ts').then((m) => m.dbMigrate),
  },
  'import prices': {
    usage: 'import prices PATH',
    summary:
      'daily closes: a long CSV/.csv.gz (symbol,date,close[,open,high,low,volume]) or a folder of SYMBOL.csv',
    load: () => import('./import-prices.ts').then((m) => m.importPrices),
  },
  'fetch prices': {
    usage: 'fetch prices [--provider file|yahoo|tiingo] [--symbols A,B] [--since YYYY-MM-DD]',
    summary:
      'daily prices from the market data provider, only the dates each symbol lacks (FU_MARKET_DATA_PROVIDER)',
    load: () => import('./fetch.ts').then((m) => m.fetchPricesCommand),
  },
  'fetch profiles': {
    usage: 'fetch profiles [--provider yahoo|tiingo] [--symbols A,B]',
    summary: 'company profiles (name, sector, industry, market cap, P/E, P/S) from the market data provider',
    load: () => import('./fetch.ts').then((m) => m.fetchProfilesCommand),
  },
  'import companies': {
    usage: 'import companies PATH',
    summary: 'company profiles (columns of companies.csv; extra columns kept)',
    load: () => import('./import-companies.ts').then((m) => m.importCompanies),
  },
  'import portfolio': {
    usage:
      'import portfolio PATH --name NAME --owner USER [--equity AMOUNT] [--currency USD] [--benchmark SYMBOL|portfolio:ID]',
    summary: "a portfolio's full position list (replaces the portfolio's positions)",
    details: PORTFOLIO_CSV_HELP,
    load: () => import('./import-portfolio.ts').then((m) => m.importPortfolio),
  },
  'factors run': {
    usage: 'factors run --date YYYY-MM-DD [--force] [--batch-size 15] [--concurrency 5]',
    summary:
      'compute the factor betas of every universe symbol for a date (cached symbols skipped unless --force)',
    load: () => import('./factors-run.ts').then((m) => m.factorsRun),
  },
  'metrics run': {
    usage: 'metrics run --date YYYY-MM-DD',
    summary: 'symbol returns, valuation and betas of every universe symbol for a date (symbol_daily_metrics)',
    load: () => import('./metrics-run.ts').then((m) => m.metricsRun),
  },
  'portfolios run': {
    usage: 'portfolios run --date YYYY-MM-DD [--read-path symbol|position|symbol_with_fallback]',
    summary: 'P&L, snapshots, Greeks, factor exposures and stress tests of every portfolio for a date',
    load: () => import('./portfolios-run.ts').then((m) => m.portfoliosRun),
  },
  'what-if': {
    usage: 'what-if FILE --date YYYY-MM-DD [--equity 1000000]',
    summary: 'factor exposures of hypothetical positions (a portfolio CSV), stored nowhere',
    details: PORTFOLIO_CSV_HELP,
    load: () => import('./what-if.ts').then((m) => m.whatIf),
  },
  limits: {
    usage: 'limits PORTFOLIO [--date YYYY-MM-DD]',
    summary: "a portfolio's limits (by id or name) with their values and state on its newest computed date",
    load: () => import('./limits.ts').then((m) => m.limits),
  },
  report: {
    usage: 'report PORTFOLIO [--date YYYY-MM-DD] --format xlsx|pdf --output FILE',
    summary: "a portfolio's Excel workbook or PDF risk report of a date (as GET .../report.xlsx|pdf)",
    load: () => import('./report.ts').then((m) => m.report),
  },
  risk: {
    usage: 'risk PORTFOLIO --date YYYY-MM-DD',
    summary:
      "a portfolio's risk report (by id or name): risk, contributions, VaR, stress, attribution, hedges",
    load: () => import('./risk.ts').then((m) => m.risk),
  },
  validate: {
    usage: 'validate [PORTFOLIO] [--date YYYY-MM-DD] [--window 250]',
    summary:
      'did the risk forecasts hold? factor and specific bias statistics, or a portfolio (id or name): its bias and VaR backtests',
    load: () => import('./validate.ts').then((m) => m.validate),
  },
  'batch run': {
    usage: 'batch run [--date YYYY-MM-DD] [--force] [--no-wait] [--verbose] [--concurrency N]',
    summary:
      'enqueue every stage of the daily pipeline for a date (default today: its last trading day) and work it here until done',
    load: () => import('./batch.ts').then((m) => m.batchRun),
  },
  'batch backfill': {
    usage:
      'batch backfill [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--force] [--no-wait] [--verbose] [--concurrency N]',
    summary:
      'the pipeline for every trading day of a range (default: after the last completed date), fanned out over the workers',
    load: () => import('./batch.ts').then((m) => m.batchBackfill),
  },
  worker: {
    usage: 'worker [--concurrency N]',
    summary: 'work the pipeline job queue until stopped (start any number, on any machine, same database)',
    load: () => import('./worker.ts').then((m) => m.worker),
  },
  compare: {
    usage: 'compare --start-date YYYY-MM-DD --end-date YYYY-MM-DD [--output report.json]',
    summary: 'compare the legacy per-position exposures with the symbol-level ones (dual-write validation)',
    load: () => import('./compare.ts').then((m) => m.compare),
  },
  'users create': {
    usage:
      'users create USERNAME [--admin] [--replace]   (password from FU_NEW_PASSWORD or a prompt, never the command line)',
    summary: 'create a user (or reset one with --replace)',
    load: () => import('./users-create.ts').then((m) => m.usersCreate),
  },
  'demo load': {
    usage: 'demo load [--stocks 500] [--seed N]',
    summary: 'generate the deterministic demo market and import it',
    load: () => import('./demo-load.ts').then((m) => m.demoLoad),
  },
};

export function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  factor-universe ${c.usage}\n      ${c.summary}`);
  return (
    `Usage:\n${lines.join('\n')}\n\n` +
    'Exit codes: 0 success, 1 something was rejected or failed, 2 usage or configuration error,\n' +
    '130/143 stopped by Ctrl-C/SIGTERM before the end.\n' +
    'Configuration: FU_DATABASE_URL (external PostgreSQL; default embedded), FU_DATA_DIR, FU_PG_PORT, FU_CONFIG\n' +
    '(every setting: README.md, "Configuration").'
  );
}

/** The command named by the first one or two words, or why there is none (printed before the usage). */
function findCommand(argv: string[]): { key: string } | { problem: string } {
  const words = argv.slice(0, 2).filter((w) => !w.startsWith('-'));
  const key = [words.join(' '), words[0] ?? ''].find((k) => k in COMMANDS);
  if (key) return { key };
  const first = words[0];
  if (first === undefined) return { problem: argv[0] ? `Unknown option ${argv[0]}.` : '' };
  const subcommands = Object.keys(COMMANDS).filter((k) => k.startsWith(`${first} `));
  if (subcommands.length === 0) return { problem: `Unknown command "${first}".` };
  return {
    problem:
      words.length > 1
        ? `Unknown command "${words.join(' ')}"; "${first}" has: ${subcommands.join(', ')}.`
        : `"${first}" needs a subcommand: ${subcommands.join(', ')}.`,
  };
}

/** Runs one command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (argv.length === 0 || (wantsHelp && (argv[0] === '--help' || argv[0] === '-h'))) {
    console.log(help());
    return 0;
  }
  const found = findCommand(argv);
  if ('problem' in found) {
    console.error(`${found.problem}\n\n${help()}`);
    return 2;
  }
  const entry = COMMANDS[found.key]!;
  if (wantsHelp) {
    console.log(
      `Usage: factor-universe ${entry.usage}\n  ${entry.summary}` +
        (entry.details ? `\n\n${entry.details}` : ''),
    );
    return 0;
  }
  // Ctrl-C and SIGTERM: say so, let the current step finish (or abandon it), close the database.
  const shutdown = new Shutdown({ what: `factor-universe ${found.key}` }).install();
  const resources = lazyResources();
  shutdown.onStop(resources.close);
  const args = argv.slice(found.key.split(' ').length);
  const code = await shutdown.track(runCommand(entry, args, resources, shutdown.signal)).catch(() => 1);
  // once a signal came, the shutdown decides the exit code (and exits)
  if (shutdown.stopping) return shutdown.stopping;
  await resources.close();
  shutdown.dispose();
  return code;
}

/** The configuration and the database, loaded and opened on first use. */
function lazyResources() {
  let config: Config | undefined;
  let opened: Promise<Db> | undefined;
  let closing: Promise<void> | undefined;
  const getConfig = () => (config ??= loadConfig());
  return {
    config: getConfig,
    /** The database, opened on first use; `api` gives the pool the API's timeouts (`serve`). */
    db: (options: { api?: boolean } = {}) =>
      (opened ??= import('../db/connection.ts').then(({ openDatabase }) =>
        openDatabase(getConfig(), options),
      )),
    close: () =>
      (closing ??= (opened ?? Promise.resolve(undefined)).then((d) => d?.close()).catch(() => undefined)),
  };
}

async function runCommand(
  entry: Entry,
  args: string[],
  resources: ReturnType<typeof lazyResources>,
  signal: AbortSignal,
): Promise<number> {
  try {
    const command = await entry.load();
    const { values, positionals } = parseArgs({
      args,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    return await command.run({ values, positionals, config: resources.config, db: resources.db, signal });
  } catch (e) {
    // stopping on a signal: what failed because of it is not news (the shutdown's messages say it)
    if (signal.aborted) throw e;
    return reportError(e, entry.usage);
  }
}

/** Prints what went wrong; returns the exit code (2 usage or configuration, 1 the rest). */
function reportError(e: unknown, usage: string): number {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(e as Error).message}\nUsage: factor-universe ${usage}`);
    return 2;
  }
  if (e instanceof ConfigError) {
    console.error(e.message);
    return 2;
  }
  console.error(describeError(e));
  return 1;
}

/** An error as one message; file-system errors name the path (not a bare "ENOENT: …"). */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const { code, path } = e as NodeJS.ErrnoException;
  if (path !== undefined && code === 'ENOENT') return `${path}: no such file or folder`;
  if (path !== undefined && (code === 'EACCES' || code === 'EPERM'))
    return `${path}: cannot be read (permission denied)`;
  if (path !== undefined && code === 'EISDIR') return `${path}: is a folder, expected a file`;
  return e.message;
}
