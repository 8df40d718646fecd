import { sql, type Kysely } from 'kysely';

/** The role the application connects as: data in and out, no DDL, no superuser (see src/db/roles.ts). */
export const APP_ROLE = 'fu_app';

/**
 * Least privilege and revocable tokens.
 *
 * - `fu_app` (created here without LOGIN if missing; roles are per cluster, so a concurrent migration
 *   of another database may create it first) may read and write every table and sequence of the
 *   schemas `public` and `pgboss`, including tables the owner creates later (default privileges), and
 *   nothing else: no CREATE on the schemas, so no DDL.
 * - `users.token_version`: a token carries the version it was signed with and is refused once the
 *   user's version moved on (sign-out everywhere, password change, demotion).
 * - The demo user was created as an admin by earlier versions; it no longer is one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0`.execute(db);
  await sql`UPDATE users SET is_admin = false, token_version = token_version + 1 WHERE username = 'demo' AND is_admin`.execute(
    db,
  );
  await sql
    .raw(
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
           CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
         END IF;
       EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
       END $$`,
    )
    .execute(db);
  await sql.raw(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`).execute(db);
  for (const schema of ['public', 'pgboss']) {
    // pgboss exists once pg-boss's own migration ran; before that the default privileges below cover it.
    await sql
      .raw(
        `DO $$ BEGIN
           IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '${schema}') THEN
             GRANT USAGE ON SCHEMA ${schema} TO ${APP_ROLE};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${APP_ROLE};
             GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${APP_ROLE};
             GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${APP_ROLE};
           END IF;
         END $$`,
      )
      .execute(db);
  }
  // PostgreSQL 17+: ANALYZE after a bulk import (MAINTAIN: vacuum, analyze, lock; still no DDL).
  // Before 17 only the owner may analyze, and the import's ANALYZE is skipped with a warning.
  await sql
    .raw(
      `DO $$ BEGIN
         IF current_setting('server_version_num')::int >= 170000 THEN
           GRANT MAINTAIN ON ALL TABLES IN SCHEMA public TO ${APP_ROLE};
           ALTER DEFAULT PRIVILEGES GRANT MAINTAIN ON TABLES TO ${APP_ROLE};
         END IF;
       END $$`,
    )
    .execute(db);
  // Tables, sequences and functions the owner (the migrating role) creates later, in any schema.
  await sql
    .raw(
      `ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_ROLE};
       ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${APP_ROLE};
       ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO ${APP_ROLE};`,
    )
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM ${APP_ROLE};
       ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM ${APP_ROLE};
       ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM ${APP_ROLE};
       REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${APP_ROLE};
       REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${APP_ROLE};
       REVOKE ALL ON SCHEMA public FROM ${APP_ROLE};`,
    )
    .execute(db);
  await sql`ALTER TABLE users DROP COLUMN token_version`.execute(db);
}
