import { sql, type Kysely } from 'kysely';

/**
 * Where the engine records a (symbol, factor, date) it could not compute, and why, so that a symbol
 * without a beta is reported rather than silently absent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE symbol_factor_skips (
      symbol            text NOT NULL,
      factor_id         smallint NOT NULL REFERENCES factor_definitions (id),
      calculation_date  date NOT NULL,
      reason            text NOT NULL CHECK (reason IN ('insufficient_observations', 'missing_proxy', 'degenerate_factor')),
      observations      integer NOT NULL,
      computed_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (symbol, factor_id, calculation_date)
    );
    CREATE INDEX symbol_factor_skips_date_idx ON symbol_factor_skips (calculation_date);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE symbol_factor_skips`.execute(db);
}
