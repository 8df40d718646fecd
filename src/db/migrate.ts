import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import * as m0001 from './migrations/0001_initial.ts';
import * as m0002 from './migrations/0002_factor_skips.ts';
import * as m0003 from './migrations/0003_portfolio_analytics.ts';
import * as m0004 from './migrations/0004_realized_vol.ts';
import * as m0005 from './migrations/0005_pipeline.ts';
import * as m0006 from './migrations/0006_risk_model.ts';
import * as m0007 from './migrations/0007_outcomes.ts';
import * as m0008 from './migrations/0008_least_privilege.ts';
import * as m0009 from './migrations/0009_market_data_providers.ts';
import * as m0010 from './migrations/0010_wide_factor_rows.ts';
import * as m0015 from './migrations/0015_demo_password_flag.ts';
import * as m0022 from './migrations/0022_benchmarks_limits.ts';
import * as m0025 from './migrations/0025_metrics_notify.ts';
import type { Database } from './schema.ts';

/** Migrations in order; names sort lexically, which is the order Kysely applies them. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_factor_skips': m0002,
  '0003_portfolio_analytics': m0003,
  '0004_realized_vol': m0004,
  '0005_pipeline': m0005,
  '0006_risk_model': m0006,
  '0007_outcomes': m0007,
  '0008_least_privilege': m0008,
  '0009_market_data_providers': m0009,
  '0010_wide_factor_rows': m0010,
  '0015_demo_password_flag': m0015,
  '0022_benchmarks_limits': m0022,
  '0025_metrics_notify': m0025,
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

/**
 * Applies pending migrations, after one cheap query that finds none pending in the usual case
 * (the Migrator itself takes a lock and reads its tables in several round trips).
 */
export async function migrateIfPending(db: Kysely<Database>): Promise<string[]> {
  const applied = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db).then(
    (r) => new Set(r.rows.map((row) => row.name)),
    (e: { code?: string }) => {
      if (e.code === '42P01') return new Set<string>(); // no migration table yet: a new database
      throw e;
    },
  );
  if (Object.keys(MIGRATIONS).every((name) => applied.has(name))) return [];
  return migrateToLatest(db);
}

/** True when every known migration has been applied (readiness). */
export async function migrationsCurrent(db: Kysely<Database>): Promise<boolean> {
  const migrations = await migrator(db).getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}
