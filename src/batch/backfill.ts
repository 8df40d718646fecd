import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { addDays, minusMonths } from '../dates.ts';
import type { Database } from '../db/schema.ts';
import { loadModel, lookbackDays } from '../factors/model.ts';
import { returnsFromCloses } from '../factors/panel.ts';
import { fetchLatest } from '../market/market-data-step.ts';
import { marketDataConfigured } from '../market/providers/index.ts';
import { firstTradingDay, loadCloses, tradingDayOnOrBefore, tradingDays } from '../market/closes.ts';
import { DAILY_PHASES, type PhaseContext } from './phases.ts';
import { runDate, type DateReport } from './runner.ts';

export interface BackfillOptions {
  from?: string;
  to?: string;
  force?: boolean;
  onDate?: (report: DateReport, done: number, total: number, symbols: number) => void;
}

/** The newest date on which every phase of the daily batch finished (completed or nothing to do). */
export async function lastCompletedDate(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ d: string | null }>(
    `SELECT max(run_date)::text AS d FROM (
       SELECT run_date FROM (
         SELECT DISTINCT ON (run_date, phase) run_date, phase, status FROM batch_runs ORDER BY run_date, phase, id DESC
       ) latest WHERE status IN ('completed', 'skipped') GROUP BY run_date HAVING count(*) = $1
     ) complete`,
    [DAILY_PHASES.length],
  );
  return rows[0]?.d ?? undefined;
}

/**
 * Runs every trading day of [from, to] in order. Defaults: `to` the last trading day with prices
 * (after fetching the configured market data source through today);
 * `from` the day after the last completed date, or the first date with a full window of history.
 * The closes of the whole range are loaded once and shared by the dates (unless the batch imports
 * prices itself, which would make them stale). Stops at the first date whose phase failed.
 */
export async function backfill(
  db: Kysely<Database>,
  pool: pg.Pool,
  config: Config,
  o: BackfillOptions = {},
): Promise<DateReport[]> {
  const model = await loadModel(db);
  const cal = model.settings.calendarSymbol;
  const lookback = lookbackDays(model);
  if (!o.to) await fetchLatest(pool, config, cal);
  const to = o.to ?? (await tradingDayOnOrBefore(pool, cal, '9999-12-31'));
  if (!to) throw new Error(`no prices for the calendar symbol ${cal}: import prices first`);
  let from = o.from;
  if (!from) {
    const last = await lastCompletedDate(pool);
    from = last ? addDays(last, 1) : addDays((await firstTradingDay(pool, cal))!, lookback);
  }
  const dates = await tradingDays(pool, cal, from, to);
  if (dates.length === 0) return [];

  // One read of the closes for the whole range, reaching back far enough for the factor windows
  // and the metrics' one-year returns; the returns panel is built from the same matrix.
  let shared: PhaseContext['shared'] = {};
  if (!marketDataConfigured(config)) {
    const reach = [addDays(dates[0]!, -lookback), minusMonths(dates[0]!, 12)].sort()[0]!;
    const closes = await loadCloses(pool, cal, reach, dates.at(-1)!);
    shared = { closes, panel: returnsFromCloses(closes.dates, closes.symbols, closes.closes) };
  }
  const reports: DateReport[] = [];
  for (const [i, date] of dates.entries()) {
    const report = await runDate(db, pool, config, date, { force: o.force ?? false, shared });
    reports.push(report);
    const symbols = report.phases.find((p) => p.phase === 'universe_factors')?.itemsTotal ?? 0;
    o.onDate?.(report, i + 1, dates.length, symbols);
    if (report.phases.some((p) => p.status === 'failed')) break;
  }
  return reports;
}
