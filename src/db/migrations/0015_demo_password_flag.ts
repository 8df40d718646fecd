import { sql, type Kysely } from 'kysely';

/**
 * `users.has_demo_password`: true while a user's password is the one the demo loader gave it, false
 * once anyone sets a password. The public-bind guard reads it, so it holds whatever FU_DEMO_PASSWORD
 * says now (the demo may have been loaded under another value). An existing `demo` user is marked:
 * its password cannot be read back, so it counts as the demo's until it is set again
 * (`users create demo --replace`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN has_demo_password boolean NOT NULL DEFAULT false`.execute(db);
  await sql`UPDATE users SET has_demo_password = true WHERE username = 'demo'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users DROP COLUMN has_demo_password`.execute(db);
}
