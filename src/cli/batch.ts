/**
 * `batch run` and `batch backfill`: enqueue a run of the daily pipeline and, unless `--no-wait`, work
 * the queue in this process until the run completes, with progress on stderr. Workers elsewhere
 * (`factor-universe worker`) share the work.
 */
import type { Db } from '../db/connection.ts';
import type { Config } from '../config.ts';
import { defaultBackfillRange, submitRun } from '../pipeline/submit.ts';
import type { RunRequest } from '../pipeline/engine.ts';
import { startWorker } from '../workers/worker.ts';
import { optionalDate, positiveNumber, UsageError, type CommandModule, type Values } from './options.ts';

const FLAGS = {
  force: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  verbose: { type: 'boolean' },
  concurrency: { type: 'string' },
} as const;

async function execute(
  d: Db,
  config: Config,
  values: Values,
  request: RunRequest,
  signal: AbortSignal,
): Promise<number> {
  const wait = values['no-wait'] !== true;
  const concurrency = Math.floor(positiveNumber(values, 'concurrency') ?? config.workerConcurrency);
  const engine = await startWorker(d, config, { concurrency: wait ? concurrency : 0, schedule: false });
  try {
    const r = await submitRun(engine, d.pool, request, { wait, verbose: values.verbose === true, signal });
    if (!wait) {
      console.log(r.runId);
      return 0;
    }
    // Ctrl-C: the job in hand finishes (or is abandoned, to be retried); the rest stays queued
    if (signal.aborted) throw signal.reason;
    return r.snapshot?.status === 'completed' ? 0 : 1;
  } finally {
    await engine.stop(8_000);
  }
}

export const batchRun: CommandModule = {
  options: { date: { type: 'string' }, ...FLAGS },
  run: async ({ values, config, db, signal }) => {
    // A date that is not (yet) a trading day means the last one before it, resolved by the run
    // after its market data stage: today's run picks up today's prices when a source has them.
    const date = optionalDate(values, 'date') ?? new Date().toISOString().slice(0, 10);
    return execute(
      await db(),
      config(),
      values,
      { from: date, to: date, kind: 'run', force: values.force === true },
      signal,
    );
  },
};

export const batchBackfill: CommandModule = {
  options: { from: { type: 'string' }, to: { type: 'string' }, ...FLAGS },
  run: async ({ values, config, db, signal }) => {
    const from = optionalDate(values, 'from');
    const to = optionalDate(values, 'to');
    if (from !== undefined && to !== undefined && from > to)
      throw new UsageError(`--from ${from} is after --to ${to}`);
    const d = await db();
    const range = await defaultBackfillRange(d, config(), { from, to });
    if (!range) {
      console.log(
        'Nothing to backfill: every trading day of the range is complete (use --from to redo some).',
      );
      return 0;
    }
    return execute(d, config(), values, { ...range, kind: 'backfill', force: values.force === true }, signal);
  },
};
