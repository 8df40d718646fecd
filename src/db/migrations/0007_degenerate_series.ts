import { sql, type Kysely } from 'kysely';

/**
 * A symbol whose own return series cannot be regressed (a non-finite return from a bad tick, or a
 * fit that comes out non-finite) is recorded as `degenerate_series`: that symbol's outcome, instead
 * of a write that fails for the batch it shares with good symbols.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE symbol_factor_skips DROP CONSTRAINT symbol_factor_skips_reason_check;
    ALTER TABLE symbol_factor_skips ADD CONSTRAINT symbol_factor_skips_reason_check
      CHECK (reason IN ('insufficient_observations', 'missing_proxy', 'degenerate_factor', 'degenerate_series'));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM symbol_factor_skips WHERE reason = 'degenerate_series';
    ALTER TABLE symbol_factor_skips DROP CONSTRAINT symbol_factor_skips_reason_check;
    ALTER TABLE symbol_factor_skips ADD CONSTRAINT symbol_factor_skips_reason_check
      CHECK (reason IN ('insufficient_observations', 'missing_proxy', 'degenerate_factor'));
  `.execute(db);
}
