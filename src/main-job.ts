import { fetchLatest } from './market/market-data-step.ts';
import path from 'node:path';
import { sql } from 'kysely';
import type { Config } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { openDatabase } from './db/connection.ts';
import { DEMO_USER, loadDemoMarket } from './demo/load.ts';
import { serve } from './api/serve.ts';
import { tradingDays } from './market/closes.ts';
import type { Db } from './db/connection.ts';
import { addDays } from './dates.ts';
import { loadModel } from './factors/model.ts';
import type { PipelineEngine } from './pipeline/engine.ts';
import { lastCompletedDate } from './pipeline/runs.ts';
import { submitRun } from './pipeline/submit.ts';
import { hasPassword } from './users/users.ts';
import { startWorker } from './workers/worker.ts';

/**
 * What `npm start` does: start (or attach to) the database, migrate, load the demo market into an
 * empty database, and report what is there.
 */
export async function runMainJob(
  config: Config,
  options: { serve: boolean } = { serve: true },
): Promise<number> {
  const log = (line: string) => console.log(line);
  // One start per data folder: a second one would attach to this one's embedded server and die with it.
  const release = lockDataDir(config.dataDir);
  try {
    return await startAndServe(config, options, log);
  } finally {
    release();
  }
}

async function startAndServe(
  config: Config,
  options: { serve: boolean },
  log: (line: string) => void,
): Promise<number> {
  log('Factor Universe: starting');
  const d = await openDatabase(config, {
    log: (l) => (l.startsWith('Applied') || l.startsWith('Creating')) && log(l),
  });
  let engine: PipelineEngine | undefined;
  try {
    log(`Database: ${d.location}`);
    const { n } = await d.db
      .selectFrom('market_data_cache')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n) === 0) {
      log('The database is empty: generating and importing the demo market…');
      const started = performance.now();
      const r = await loadDemoMarket(d.db, d.pool, path.join(config.dataDir, 'demo'), config.demoPassword);
      log(
        `Demo market loaded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${r.symbols} symbols × ${r.dates} trading days ` +
          `(${r.priceRows} closes), ${r.portfolios} portfolios of user "${DEMO_USER}" (password: ${config.demoPassword}).`,
      );
      log(`Demo input files (and the planted betas): ${r.folder}`);
    }
    // One in-process worker: the batch below, runs started through the API, and the schedule.
    engine = await startWorker(d, config, { log });
    if (!options.serve) {
      await runRecentBatch(d, engine, log);
      return (await logStore(d, log)) ? 0 : 1;
    }
    await logStore(d, log);
    // Serve first, compute after: the port answers as soon as the API listens, and the recent days
    // are computed in the background by the worker above. The web app shows their progress (GET
    // /api/v1/progress) and every date already done.
    const api = await openDatabase(config, { api: true, migrate: false });
    const stopBatch = new AbortController();
    let batch: Promise<void> = Promise.resolve();
    const worker = engine;
    const hint = await signInHint(d, config);
    try {
      await serve(api, config, config.port, config.host, engine, (address) => {
        const url = address.replace('://localhost', '://127.0.0.1');
        log(`Open ${url} and ${hint}. Ctrl-C stops.`);
        batch = runRecentBatch(d, worker, log, 60, stopBatch.signal).catch((e: unknown) => {
          if (!stopBatch.signal.aborted) log(`Batch: ${e instanceof Error ? e.message : String(e)}`);
        });
      });
    } finally {
      stopBatch.abort();
      await batch;
      await api.close();
    }
    return 0;
  } finally {
    await engine?.stop();
    await d.close();
  }
}

/** What the store holds, in one line; false when the counts cannot be read. */
async function logStore(d: Db, log: (line: string) => void): Promise<boolean> {
  const {
    rows: [counts],
  } = await sql<{ symbols: number; last_date: string | null; portfolios: number }>`
    SELECT (SELECT count(*) FROM symbol_universe)::int AS symbols,
           (SELECT max(last_seen) FROM symbol_universe) AS last_date,
           (SELECT count(*) FROM portfolios)::int AS portfolios`.execute(d.db);
  if (!counts) return false;
  log(
    `Store: ${counts.symbols} symbols, prices up to ${counts.last_date ?? '(none)'}, ${counts.portfolios} portfolios.`,
  );
  return true;
}

/**
 * How to sign in, as `start` prints it: the demo password only when the demo user really has it
 * (the demo may have been loaded under another FU_DEMO_PASSWORD, or its password changed since).
 */
export async function signInHint(d: Db, config: Config): Promise<string> {
  if (await hasPassword(d.db, DEMO_USER, config.demoPassword))
    return `sign in as ${DEMO_USER} / ${config.demoPassword}`;
  return (
    `sign in with a user of this store; FU_DEMO_PASSWORD is not the password of ` +
    `user "${DEMO_USER}" here (set one with FU_NEW_PASSWORD=... factor-universe users create ${DEMO_USER} --replace)`
  );
}

/** The daily pipeline over the last `days` trading days, from where the last completed run stopped. */
async function runRecentBatch(
  d: Db,
  engine: PipelineEngine,
  log: (line: string) => void,
  days = 60,
  signal?: AbortSignal,
): Promise<void> {
  const { calendarSymbol } = (await loadModel(d.db)).settings;
  await fetchLatest(d.pool, engine.config, calendarSymbol); // a configured provider's newest closes first
  const recent = await tradingDays(d.pool, calendarSymbol, '0001-01-01', '9999-12-31');
  if (recent.length === 0) return;
  const window = recent.slice(-days);
  const last = await lastCompletedDate(d.pool);
  const from = last && last >= window[0]! ? addDays(last, 1) : window[0]!;
  if (from > window.at(-1)!) {
    log(`Batch: the last ${window.length} trading days are complete (${window[0]} to ${window.at(-1)}).`);
    return;
  }
  log(`Batch: every stage for the trading days from ${from} to ${window.at(-1)}…`);
  const r = await submitRun(
    engine,
    d.pool,
    { from, to: window.at(-1)!, kind: 'backfill' },
    { wait: true, stream: process.stdout, signal },
  );
  if (signal?.aborted) return;
  if (r.snapshot?.status === 'completed') log(`Batch: ${from} to ${window.at(-1)} computed.`);
  else log(`Batch: run ${r.runId} ${r.snapshot?.status ?? 'stopped'} (GET /api/v1/batch/runs/${r.runId}).`);
}
