import { createRequire } from 'node:module';
import { sql, type Kysely } from 'kysely';

/**
 * The daily pipeline on pg-boss. `batch_runs` becomes one row per run (a date or a range of dates)
 * and `batch_jobs` one row per (run, stage, date block, partition): what the job engine executes
 * and what `GET /api/v1/batch/runs/{id}` shows. pg-boss keeps its queue in schema `pgboss`, created
 * here, in the owner's migration, so that the application's role needs no DDL rights at run time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE batch_runs;
    CREATE TABLE batch_runs (
      id            uuid PRIMARY KEY,
      kind          text NOT NULL CHECK (kind IN ('run', 'backfill', 'schedule')),
      from_date     date NOT NULL,
      to_date       date NOT NULL CHECK (to_date >= from_date),
      force         boolean NOT NULL DEFAULT false,
      status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
      -- The trading days the run covers, resolved once after the market data stage.
      days          date[],
      -- Consecutive trading days per block of the day stages (a daily run: one block of one day).
      block_days    integer NOT NULL DEFAULT 1 CHECK (block_days > 0),
      requested_by  text,
      created_at    timestamptz NOT NULL DEFAULT now(),
      started_at    timestamptz,
      finished_at   timestamptz,
      error         text
    );
    CREATE INDEX batch_runs_active_idx ON batch_runs (from_date, to_date) WHERE status IN ('queued', 'running');
    CREATE INDEX batch_runs_created_idx ON batch_runs (created_at DESC);

    CREATE TABLE batch_jobs (
      run_id        uuid NOT NULL REFERENCES batch_runs ON DELETE CASCADE,
      stage         text NOT NULL,
      -- A date block: one date for a daily run; consecutive trading days of a backfill.
      first_date    date NOT NULL,
      last_date     date NOT NULL CHECK (last_date >= first_date),
      partition     integer NOT NULL CHECK (partition >= 0),
      partitions    integer NOT NULL CHECK (partition < partitions),
      state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'active', 'retry', 'completed', 'failed')),
      attempts      integer NOT NULL DEFAULT 0,
      boss_job_id   uuid,
      queued_at     timestamptz NOT NULL DEFAULT now(),
      started_at    timestamptz,
      finished_at   timestamptz,
      duration_ms   double precision,
      items         integer,
      error         text,
      details       jsonb NOT NULL DEFAULT '{}',
      PRIMARY KEY (run_id, stage, first_date, partition)
    );
    CREATE INDEX batch_jobs_open_idx ON batch_jobs (run_id) WHERE state IN ('queued', 'active', 'retry');
  `.execute(db);

  const { rows } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgboss'`.execute(db);
  if (rows[0]?.n === 0) {
    // pg-boss's own construction script, without its BEGIN/COMMIT: the migration is our transaction.
    const PgBoss = createRequire(import.meta.url)('pg-boss') as {
      getConstructionPlans(schema: string): string;
    };
    const plan = PgBoss.getConstructionPlans('pgboss')
      .replace(/^\s*BEGIN;/, '')
      .replace(/COMMIT;\s*$/, '');
    await sql.raw(plan).execute(db);
  }
  // The pipeline's queue: 'stately' lets one job per singleton key (date:stage:partition) wait and one
  // run. Retries back off; a job whose worker died expires after 30 s and is retried.
  await sql`SELECT pgboss.create_queue('pipeline', ${JSON.stringify({
    policy: 'stately',
    retryLimit: 3,
    retryDelay: 2,
    retryBackoff: true,
    expireInSeconds: 30,
  })}::json)`.execute(db);
  await sql`SELECT pgboss.create_queue('pipeline-schedule', ${JSON.stringify({ policy: 'standard', retryLimit: 2 })}::json)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP SCHEMA IF EXISTS pgboss CASCADE;
    DROP TABLE batch_jobs, batch_runs;
    CREATE TABLE batch_runs (
      id               bigserial PRIMARY KEY,
      run_id           uuid NOT NULL,
      run_date         date NOT NULL,
      phase            text NOT NULL,
      status           text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'skipped')),
      items_total      integer NOT NULL DEFAULT 0,
      items_succeeded  integer NOT NULL DEFAULT 0,
      items_failed     integer NOT NULL DEFAULT 0,
      started_at       timestamptz NOT NULL DEFAULT now(),
      finished_at      timestamptz,
      duration_ms      double precision,
      error            text,
      details          jsonb NOT NULL DEFAULT '{}'
    );
  `.execute(db);
}
