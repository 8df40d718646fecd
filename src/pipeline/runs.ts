import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Database, JobState, RunKind, RunStatus } from '../db/schema.ts';

/** The queries on `batch_runs` and `batch_jobs`, in one place. */

export interface JobKey {
  runId: string;
  stage: string;
  /** First and last day of the job's date block (the run's range for run-scope stages). */
  first: string;
  last: string;
  partition: number;
}

export interface RunRow {
  id: string;
  kind: RunKind;
  from_date: string;
  to_date: string;
  force: boolean;
  status: RunStatus;
  days: string[] | null;
  block_days: number;
  error: string | null;
}

export class ActiveRunError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} is already active for these dates; wait for it or watch it`);
  }
}

/** Serializes run creation, so two requests for one date cannot both find no active run. */
const CREATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('factor-universe:batch-runs'))";

/** Inserts a run unless one is active on an overlapping range (then `ActiveRunError` with its id). */
export async function insertRun(
  client: pg.ClientBase,
  run: { id: string; kind: RunKind; from: string; to: string; force: boolean; requestedBy: string | null },
): Promise<void> {
  await client.query(CREATE_LOCK);
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM batch_runs WHERE status IN ('queued', 'running') AND from_date <= $2 AND to_date >= $1
      ORDER BY created_at LIMIT 1`,
    [run.from, run.to],
  );
  if (rows[0]) throw new ActiveRunError(rows[0].id);
  await client.query(
    `INSERT INTO batch_runs (id, kind, from_date, to_date, force, requested_by) VALUES ($1, $2, $3, $4, $5, $6)`,
    [run.id, run.kind, run.from, run.to, run.force, run.requestedBy],
  );
}

export async function activeRunOverlapping(
  pool: pg.Pool,
  from: string,
  to: string,
): Promise<RunRow | undefined> {
  const { rows } = await pool.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM batch_runs WHERE status IN ('queued', 'running') AND from_date <= $2 AND to_date >= $1
      ORDER BY created_at LIMIT 1`,
    [from, to],
  );
  return rows[0];
}

const RUN_COLUMNS =
  'id, kind, from_date::text, to_date::text, force, status, days::text[] AS days, block_days, error';

export async function getRun(q: pg.Pool | pg.ClientBase, id: string): Promise<RunRow | undefined> {
  const { rows } = await q.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM batch_runs WHERE id = $1`, [id]);
  return rows[0];
}

/** The run's row, locked for the transaction: stage completions of one run are decided one at a time. */
export async function lockRun(client: pg.ClientBase, id: string): Promise<RunRow> {
  const { rows } = await client.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM batch_runs WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (!rows[0]) throw new Error(`run ${id} does not exist`);
  return rows[0];
}

export async function setRunDays(
  client: pg.ClientBase,
  id: string,
  days: string[],
  blockDays: number,
): Promise<void> {
  await client.query('UPDATE batch_runs SET days = $2::date[], block_days = $3 WHERE id = $1', [
    id,
    days,
    blockDays,
  ]);
}

export async function markRunStarted(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(
    "UPDATE batch_runs SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1 AND status = 'queued'",
    [id],
  );
}

export async function insertJobs(
  client: pg.ClientBase,
  jobs: readonly (JobKey & { partitions: number; bossJobId: string })[],
): Promise<void> {
  if (jobs.length === 0) return;
  await client.query(
    `INSERT INTO batch_jobs (run_id, stage, first_date, last_date, partition, partitions, boss_job_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::date[], $5::int[], $6::int[], $7::uuid[])`,
    [
      jobs.map((j) => j.runId),
      jobs.map((j) => j.stage),
      jobs.map((j) => j.first),
      jobs.map((j) => j.last),
      jobs.map((j) => j.partition),
      jobs.map((j) => j.partitions),
      jobs.map((j) => j.bossJobId),
    ],
  );
}

const KEY = 'run_id = $1 AND stage = $2 AND first_date = $3 AND partition = $4';
const keyArgs = (k: JobKey) => [k.runId, k.stage, k.first, k.partition];

/** Marks a job started (another attempt); returns false when it is already finished. */
export async function markJobActive(pool: pg.Pool, k: JobKey): Promise<boolean> {
  const r = await pool.query(
    `UPDATE batch_jobs SET state = 'active', attempts = attempts + 1, started_at = now(), error = NULL
      WHERE ${KEY} AND state NOT IN ('completed', 'failed')`,
    keyArgs(k),
  );
  return (r.rowCount ?? 0) > 0;
}

/** Records a finished job; returns false when it was already completed (a duplicate delivery). */
export async function markJobCompleted(
  client: pg.ClientBase,
  k: JobKey,
  outcome: { items: number; durationMs: number; details: Record<string, unknown> },
): Promise<boolean> {
  const r = await client.query(
    `UPDATE batch_jobs SET state = 'completed', finished_at = now(), duration_ms = $5, items = $6, details = $7, error = NULL
      WHERE ${KEY} AND state <> 'completed'`,
    [...keyArgs(k), outcome.durationMs, outcome.items, JSON.stringify(outcome.details)],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Records a failed attempt; returns false when the job had completed meanwhile (a duplicate's failure). */
export async function markJobFailed(
  q: pg.Pool | pg.ClientBase,
  k: JobKey,
  error: string,
  final: boolean,
  durationMs: number,
): Promise<boolean> {
  const r = await q.query(
    `UPDATE batch_jobs SET state = $5, error = $6, duration_ms = $7, finished_at = CASE WHEN $5 = 'failed' THEN now() END
      WHERE ${KEY} AND state <> 'completed'`,
    [...keyArgs(k), (final ? 'failed' : 'retry') satisfies JobState, error, durationMs],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Jobs of a stage: of one block (`first`), or of every block. */
export async function stageJobs(
  client: pg.ClientBase,
  runId: string,
  stage: string,
  first?: string,
): Promise<{ first: string; last: string; state: JobState }[]> {
  const { rows } = await client.query<{ first: string; last: string; state: JobState }>(
    `SELECT first_date::text AS first, last_date::text AS last, state FROM batch_jobs
      WHERE run_id = $1 AND stage = $2 AND ($3::date IS NULL OR first_date = $3)`,
    [runId, stage, first ?? null],
  );
  return rows;
}

export async function jobCounts(
  client: pg.ClientBase,
  runId: string,
): Promise<{ open: number; failed: number }> {
  const { rows } = await client.query<{ open: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE state IN ('queued', 'active', 'retry'))::int AS open,
            count(*) FILTER (WHERE state = 'failed')::int AS failed
       FROM batch_jobs WHERE run_id = $1`,
    [runId],
  );
  return rows[0] ?? { open: 0, failed: 0 };
}

export async function finishRun(client: pg.ClientBase, id: string, failedJobs: number): Promise<void> {
  await client.query(
    `UPDATE batch_runs SET finished_at = now(),
            status = CASE WHEN $2 > 0 OR error IS NOT NULL THEN 'failed' ELSE 'completed' END,
            error = CASE WHEN $2 > 0 THEN coalesce(error, $2 || ' job(s) failed') ELSE error END
      WHERE id = $1 AND status IN ('queued', 'running')`,
    [id, failedJobs],
  );
}

export async function recordRunError(q: pg.Pool | pg.ClientBase, id: string, error: string): Promise<void> {
  await q.query('UPDATE batch_runs SET error = coalesce(error, $2) WHERE id = $1', [id, error]);
}

/**
 * Jobs whose pg-boss job failed without our handler recording it (its worker was killed on the last
 * attempt and the job expired): marked failed; returns their runs, to be finished if nothing is left.
 */
export async function reconcileExpired(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ run_id: string }>(
    `UPDATE batch_jobs b SET state = 'failed', finished_at = now(),
            error = coalesce(b.error, 'the job expired: its worker stopped, or it ran past its time limit')
       FROM pgboss.job j
      WHERE j.id = b.boss_job_id AND j.name = 'pipeline' AND j.state = 'failed'
        AND b.state NOT IN ('completed', 'failed')
      RETURNING b.run_id`,
  );
  return [...new Set(rows.map((r) => r.run_id))];
}

/** The newest date that a completed run covered (where a backfill without `--from` resumes). */
export async function lastCompletedDate(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ d: string | null }>(
    "SELECT max(d)::text AS d FROM batch_runs, unnest(days) AS d WHERE status = 'completed'",
  );
  return rows[0]?.d ?? undefined;
}

/** Per stage: jobs known, done, failed, running; for progress displays and the API. */
export interface StageProgress {
  stage: string;
  total: number;
  completed: number;
  failed: number;
  active: number;
  items: number;
  /** Partitions of one block of the stage. */
  partitions: number;
}

export async function runProgress(pool: pg.Pool, runId: string): Promise<StageProgress[]> {
  const { rows } = await pool.query<StageProgress>(
    `SELECT stage, count(*)::int AS total,
            count(*) FILTER (WHERE state = 'completed')::int AS completed,
            count(*) FILTER (WHERE state = 'failed')::int AS failed,
            count(*) FILTER (WHERE state = 'active')::int AS active,
            coalesce(sum(items) FILTER (WHERE state = 'completed'), 0)::int AS items,
            max(partitions)::int AS partitions
       FROM batch_jobs WHERE run_id = $1 GROUP BY stage`,
    [runId],
  );
  return rows;
}

/** Runs, newest first, with their job counts (the API's list). */
export function listRuns(db: Kysely<Database>, limit: number, offset: number) {
  return db
    .selectFrom('batch_runs as r')
    .select((eb) => [
      'r.id',
      'r.kind',
      eb.cast<string>('r.from_date', 'text').as('from_date'),
      eb.cast<string>('r.to_date', 'text').as('to_date'),
      'r.status',
      'r.force',
      'r.created_at',
      'r.started_at',
      'r.finished_at',
      'r.error',
      // the trading days the run resolved (an empty or holiday date means the last trading day)
      sql<string | null>`(SELECT min(d)::text FROM unnest(r.days) d)`.as('first_trading_day'),
      sql<string | null>`(SELECT max(d)::text FROM unnest(r.days) d)`.as('last_trading_day'),
      eb
        .selectFrom('batch_jobs as j')
        .whereRef('j.run_id', '=', 'r.id')
        .select((e) => e.fn.countAll<number>().as('n'))
        .as('jobs_total'),
      eb
        .selectFrom('batch_jobs as j')
        .whereRef('j.run_id', '=', 'r.id')
        .where('j.state', '=', 'completed')
        .select((e) => e.fn.countAll<number>().as('n'))
        .as('jobs_done'),
    ])
    .orderBy('r.created_at', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

/** Every job of a run (the API's detail), in flow order of their dates. */
export function runJobs(db: Kysely<Database>, runId: string) {
  return db
    .selectFrom('batch_jobs')
    .select((eb) => [
      'stage',
      eb.cast<string>('first_date', 'text').as('first_date'),
      eb.cast<string>('last_date', 'text').as('last_date'),
      'partition',
      'partitions',
      'state',
      'attempts',
      'duration_ms',
      'items',
      'error',
      'queued_at',
      'started_at',
      'finished_at',
    ])
    .where('run_id', '=', runId)
    .orderBy('first_date')
    .orderBy('queued_at')
    .orderBy('partition')
    .execute();
}

/** The active run's range and how many of its trading days every stage has finished. */
export interface ActiveRunProgress {
  id: string;
  from: string;
  to: string;
  status: string;
  daysTotal: number;
  daysDone: number;
}

/**
 * The oldest queued or running run, with its days done: a day is done when the last stage
 * (portfolios, which comes after every other) has completed every partition of the block holding it.
 */
export async function activeRunProgress(pool: pg.Pool): Promise<ActiveRunProgress | null> {
  const { rows } = await pool.query<ActiveRunProgress>(
    `SELECT r.id::text AS id, r.from_date::text AS "from", r.to_date::text AS "to", r.status,
            coalesce(cardinality(r.days), 0)::int AS "daysTotal",
            (SELECT count(*)::int FROM unnest(r.days) AS d
              WHERE EXISTS (SELECT 1 FROM batch_jobs j
                             WHERE j.run_id = r.id AND j.stage = 'portfolios' AND d BETWEEN j.first_date AND j.last_date
                             GROUP BY j.first_date
                            HAVING bool_and(j.state = 'completed') AND count(*) = max(j.partitions))) AS "daysDone"
       FROM batch_runs r WHERE r.status IN ('queued', 'running')
      ORDER BY r.created_at LIMIT 1`,
  );
  return rows[0] ?? null;
}
