import { sql, type Kysely } from 'kysely';

/**
 * Every `serve` process keeps the latest computed dates of `symbol_daily_metrics` in memory
 * (src/api/served-dates.ts). A committed change to that table must reach all of them, whoever wrote
 * it (the pipeline's metrics stage, `metrics run`, a price revision that deletes or reprices rows):
 * statement-level triggers send `NOTIFY fu_metrics_changed` with the changed dates, comma-separated.
 * NOTIFY is transactional: listeners hear it only once the writing transaction commits, so a process
 * that reloads on the message reads the new rows. More than 200 dates (a long backfill), or a
 * TRUNCATE, send `*`: every date.
 *
 * Statement-level, with transition tables: one message per statement, not per row (a day's write is
 * one statement of ~10,000 rows). PostgreSQL allows a transition table on one event per trigger,
 * hence three triggers over one function.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION fu_notify_metrics_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      dates text;
      n int;
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('fu_metrics_changed', '*');
        RETURN NULL;
      END IF;
      IF TG_OP = 'DELETE' THEN
        SELECT count(DISTINCT metric_date), string_agg(DISTINCT metric_date::text, ',') INTO n, dates FROM old_rows;
      ELSE
        SELECT count(DISTINCT metric_date), string_agg(DISTINCT metric_date::text, ',') INTO n, dates FROM new_rows;
      END IF;
      IF n = 0 THEN
        RETURN NULL;
      END IF;
      PERFORM pg_notify('fu_metrics_changed', CASE WHEN n > 200 THEN '*' ELSE dates END);
      RETURN NULL;
    END $$;
    CREATE TRIGGER symbol_daily_metrics_notify_insert AFTER INSERT ON symbol_daily_metrics
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fu_notify_metrics_changed();
    CREATE TRIGGER symbol_daily_metrics_notify_update AFTER UPDATE ON symbol_daily_metrics
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fu_notify_metrics_changed();
    CREATE TRIGGER symbol_daily_metrics_notify_delete AFTER DELETE ON symbol_daily_metrics
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fu_notify_metrics_changed();
    CREATE TRIGGER symbol_daily_metrics_notify_truncate AFTER TRUNCATE ON symbol_daily_metrics
      FOR EACH STATEMENT EXECUTE FUNCTION fu_notify_metrics_changed();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER symbol_daily_metrics_notify_insert ON symbol_daily_metrics;
    DROP TRIGGER symbol_daily_metrics_notify_update ON symbol_daily_metrics;
    DROP TRIGGER symbol_daily_metrics_notify_delete ON symbol_daily_metrics;
    DROP TRIGGER symbol_daily_metrics_notify_truncate ON symbol_daily_metrics;
    DROP FUNCTION fu_notify_metrics_changed();
  `.execute(db);
}
