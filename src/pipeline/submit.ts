import type pg from 'pg';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { PipelineEngine, type EngineOptions, type RunRequest } from './engine.ts';
import { progressPrinter, waitForRun, type RunSnapshot } from './progress.ts';
import { ActiveRunError, lastCompletedDate } from './runs.ts';
import { addDays } from '../dates.ts';
import { loadModel, lookbackDays } from '../factors/model.ts';
import { firstTradingDay, tradingDayOnOrBefore } from '../market/closes.ts';
import { marketDataConfigured } from '../market/providers/index.ts';

export interface SubmitOptions {
  /** Follow the run to its end (a worker must be working the queue somewhere). */
  wait: boolean;
  verbose?: boolean;
  stream?: NodeJS.WriteStream;
  signal?: AbortSignal;
}

/**
 * Enqueues a run, or joins the run already active on the same range (a second `batch run` for a date
 * follows the first instead of failing), and follows it with progress output when asked.
 */
export async function submitRun(
  engine: PipelineEngine,
  pool: pg.Pool,
  request: RunRequest,
  o: SubmitOptions,
): Promise<{ runId: string; joined: boolean; snapshot?: RunSnapshot }> {
  const stream = o.stream ?? process.stderr;
  let runId: string;
  let joined = false;
  try {
    runId = await engine.createRun(request);
  } catch (e) {
    if (!(e instanceof ActiveRunError)) throw e;
    runId = e.runId;
    joined = true;
    stream.write(`run ${runId} is already active for these dates: following it\n`);
  }
  if (!o.wait) return { runId, joined };
  stream.write(
    `run ${runId}: ${request.from === request.to ? request.from : `${request.from} to ${request.to}`}\n`,
  );
  const snapshot = await waitForRun(pool, runId, progressPrinter(stream, engine.stages, o.verbose), {
    signal: o.signal,
  });
  return { runId, joined, snapshot };
}

/**
 * Runs a request to its end in this process (an engine with `concurrency` workers, stopped after):
 * for tests, benchmarks and tools that want the stored rows, not a queue.
 */
export async function runPipeline(
  store: { db: Kysely<Database>; pool: pg.Pool },
  config: Config,
  request: RunRequest,
  options: EngineOptions & { concurrency?: number } = {},
): Promise<RunSnapshot & { runId: string }> {
  const engine = await PipelineEngine.open(store, config, {
    log: () => undefined,
    schedule: false,
    ...options,
  });
  engine.work(options.concurrency ?? 1);
  try {
    const runId = await engine.createRun(request);
    return { runId, ...(await waitForRun(store.pool, runId, () => undefined, { intervalMs: 20 })) };
  } finally {
    await engine.stop();
  }
}

/**
 * The range a backfill without `--from`/`--to` covers: from the day after the last completed run
 * (or the first day with a full factor window of history) to today when a market data source is
 * configured (its stage fetches the days since), else to the store's last trading day. Undefined
 * when everything is complete.
 */
export async function defaultBackfillRange(
  store: { db: Kysely<Database>; pool: pg.Pool },
  config: Config,
  given: { from?: string; to?: string } = {},
): Promise<{ from: string; to: string } | undefined> {
  const model = await loadModel(store.db);
  const cal = model.settings.calendarSymbol;
  const to =
    given.to ??
    (marketDataConfigured(config)
      ? new Date().toISOString().slice(0, 10)
      : await tradingDayOnOrBefore(store.pool, cal, '9999-12-31'));
  if (!to) throw new Error(`no prices for the calendar symbol ${cal}: import prices first`);
  let from = given.from;
  if (!from) {
    const last = await lastCompletedDate(store.pool);
    const first = await firstTradingDay(store.pool, cal);
    if (!last && !first) throw new Error(`no prices for the calendar symbol ${cal}: import prices first`);
    from = last ? addDays(last, 1) : addDays(first!, lookbackDays(model));
  }
  return from > to ? undefined : { from, to };
}
