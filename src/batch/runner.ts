import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { DAILY_PHASES, type Phase, type PhaseContext } from './phases.ts';

export class DateLockedError extends Error {
  constructor(readonly date: string) {
    super(
      `another batch process is running ${date} on this database; wait for it to finish (or stop it) and run again`,
    );
  }
}

export interface PhaseReport {
  phase: string;
  status: 'completed' | 'failed' | 'skipped';
  itemsTotal: number;
  itemsFailed: number;
  durationMs: number;
  error?: string;
  note?: string;
}

export interface DateReport {
  date: string;
  runId: string;
  phases: PhaseReport[];
  /** A phase failed (the date stopped there) or some items failed. */
  failed: boolean;
}

/** One advisory lock key per date, in a namespace of our own. */
const LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('factor-universe:batch'), hashtext($1)) AS ok";
const UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('factor-universe:batch'), hashtext($1))";

/**
 * Runs the phases of one date in order, recording each in `batch_runs`. A phase completed earlier is
 * skipped unless `force`; a failed or interrupted one runs again. A phase that throws stops the date.
 * Two processes never run the same date at once: a PostgreSQL advisory lock, held on a connection of
 * its own for the whole date, turns the second away with `DateLockedError`.
 */
export async function runDate(
  db: Kysely<Database>,
  pool: pg.Pool,
  config: Config,
  date: string,
  options: {
    force?: boolean;
    shared?: PhaseContext['shared'];
    phases?: readonly Phase[];
    runId?: string;
  } = {},
): Promise<DateReport> {
  const phases = options.phases ?? DAILY_PHASES;
  const lock = await pool.connect();
  try {
    const { rows } = await lock.query<{ ok: boolean }>(LOCK_SQL, [date]);
    if (!rows[0]?.ok) throw new DateLockedError(date);
    try {
      // Holding the lock, any 'running' row of this date belongs to a process that died.
      await pool.query(
        "UPDATE batch_runs SET status = 'failed', finished_at = now(), error = 'interrupted: the process ended before the phase finished' WHERE run_date = $1 AND status = 'running'",
        [date],
      );
      return await runPhases(db, pool, config, date, phases, options);
    } finally {
      await lock.query(UNLOCK_SQL, [date]);
    }
  } finally {
    lock.release();
  }
}

async function runPhases(
  db: Kysely<Database>,
  pool: pg.Pool,
  config: Config,
  date: string,
  phases: readonly Phase[],
  options: { force?: boolean; shared?: PhaseContext['shared']; runId?: string },
): Promise<DateReport> {
  const runId = options.runId ?? randomUUID();
  const report: DateReport = { date, runId, phases: [], failed: false };
  const latest = await pool.query<{ phase: string; status: string }>(
    'SELECT DISTINCT ON (phase) phase, status FROM batch_runs WHERE run_date = $1 ORDER BY phase, id DESC',
    [date],
  );
  // A phase that completed, or had nothing to do, need not run again.
  const completed = new Set(
    latest.rows.filter((r) => r.status !== 'failed' && r.status !== 'running').map((r) => r.phase),
  );
  const ctx: PhaseContext = {
    db,
    pool,
    config,
    date,
    force: options.force ?? false,
    shared: options.shared ?? {},
  };
  for (const phase of phases) {
    if (!ctx.force && completed.has(phase.name)) {
      report.phases.push({
        phase: phase.name,
        status: 'skipped',
        itemsTotal: 0,
        itemsFailed: 0,
        durationMs: 0,
        note: 'completed earlier',
      });
      continue;
    }
    const { rows } = await pool.query<{ id: number }>(
      "INSERT INTO batch_runs (run_id, run_date, phase, status) VALUES ($1, $2, $3, 'running') RETURNING id",
      [runId, date, phase.name],
    );
    const id = rows[0]!.id;
    const started = performance.now();
    try {
      const out = await phase.run(ctx);
      const durationMs = performance.now() - started;
      const status = out.skipped ? 'skipped' : 'completed';
      await pool.query(
        `UPDATE batch_runs SET status = $2, items_total = $3, items_succeeded = $4, items_failed = $5,
           finished_at = now(), duration_ms = $6, details = $7 WHERE id = $1`,
        [
          id,
          status,
          out.itemsTotal,
          out.itemsSucceeded,
          out.itemsFailed,
          durationMs,
          JSON.stringify({ ...out.details, ...(out.skipped ? { reason: out.skipped } : {}) }),
        ],
      );
      report.phases.push({
        phase: phase.name,
        status,
        itemsTotal: out.itemsTotal,
        itemsFailed: out.itemsFailed,
        durationMs,
        ...(out.skipped ? { note: out.skipped } : {}),
      });
      if (out.itemsFailed > 0) report.failed = true;
    } catch (e) {
      const durationMs = performance.now() - started;
      const error = e instanceof Error ? e.message : String(e);
      await pool.query(
        "UPDATE batch_runs SET status = 'failed', finished_at = now(), duration_ms = $2, error = $3 WHERE id = $1",
        [id, durationMs, error],
      );
      report.phases.push({
        phase: phase.name,
        status: 'failed',
        itemsTotal: 0,
        itemsFailed: 0,
        durationMs,
        error,
      });
      report.failed = true;
      break; // a failing phase stops its date
    }
  }
  return report;
}
