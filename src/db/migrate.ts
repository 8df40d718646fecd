import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import * as m0001 from './migrations/0001_initial.ts';
import * as m0002 from './migrations/0002_factor_skips.ts';
import * as m0003 from './migrations/0003_portfolio_analytics.ts';
import * as m0004 from './migrations/0004_realized_vol.ts';
import * as m0008 from './migrations/0008_least_privilege.ts';
import type { Database } from './schema.ts';

/** Migrations in order; names sort lexically, which is the order Kysely applies them. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_factor_skips': m0002,
  '0003_portfolio_analytics': m0003,
  '0004_realized_vol': m0004,
  '0008_least_privilege': m0008,
};

export function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
}

/** Applies pending migrations; returns the names applied. Throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${String((result.error as Error).message ?? result.error)}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when every known migration has been applied (readiness). */
export async function migrationsCurrent(db: Kysely<Database>): Promise<boolean> {
  const migrations = await migrator(db).getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}
