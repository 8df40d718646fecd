/**
 * `batch run` and `batch backfill`, as the single-process runner does them today (the pipeline
 * engine replaces them). A date locked by another batch process exits with code 3.
 */
import { backfill } from '../batch/backfill.ts';
import { progressReporter } from '../batch/progress.ts';
import { DateLockedError, runDate, type DateReport } from '../batch/runner.ts';
import { loadModel } from '../factors/model.ts';
import { tradingDayOnOrBefore } from '../market/closes.ts';
import { formatTable } from '../table.ts';
import { optionalDate, UsageError, type CommandModule } from './options.ts';

async function lockedExits3(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof DateLockedError)) throw e;
    console.error(e.message);
    return 3;
  }
}

export const batchRun: CommandModule = {
  options: { date: { type: 'string' }, force: { type: 'boolean' } },
  run: async ({ values, config, db }) =>
    lockedExits3(async () => {
      const requested = optionalDate(values, 'date') ?? '9999-12-31';
      const d = await db();
      const date = await tradingDayOnOrBefore(
        d.pool,
        (await loadModel(d.db)).settings.calendarSymbol,
        requested,
      );
      if (!date) throw new Error(`no trading day on or before ${requested}: import prices first`);
      const report = await runDate(d.db, d.pool, config(), date, { force: values.force === true });
      printDateReport(report);
      return report.failed ? 1 : 0;
    }),
};

export const batchBackfill: CommandModule = {
  options: { from: { type: 'string' }, to: { type: 'string' }, force: { type: 'boolean' } },
  run: async ({ values, config, db, signal }) =>
    lockedExits3(async () => {
      const from = optionalDate(values, 'from');
      const to = optionalDate(values, 'to');
      if (from !== undefined && to !== undefined && from > to)
        throw new UsageError(`--from ${from} is after --to ${to}`);
      const d = await db();
      const started = performance.now();
      const progress = progressReporter();
      const reports = await backfill(d.db, d.pool, config(), {
        from,
        to,
        force: values.force === true,
        onDate: (...args) => {
          progress(...args);
          // Ctrl-C: stop after the date just completed (the rest is resumed by the next backfill)
          if (signal.aborted) throw signal.reason;
        },
      });
      const failed = reports.filter((r) => r.failed);
      console.log(
        reports.length === 0
          ? 'Nothing to backfill: every date of the range is complete.'
          : `Backfilled ${reports.length} dates (${reports[0]!.date} to ${reports.at(-1)!.date}) in ${((performance.now() - started) / 1000).toFixed(1)} s` +
              (failed.length ? `; ${failed.length} with failures (see batch_runs)` : ''),
      );
      return failed.length ? 1 : 0;
    }),
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
