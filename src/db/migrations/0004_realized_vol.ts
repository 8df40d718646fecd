import { sql, type Kysely } from 'kysely';

/**
 * Each symbol's annualised realised volatility over the ridge window, computed once a day with the
 * other symbol metrics, so option valuations look it up instead of loading a year of closes per
 * underlying. Not one of the scored metric columns of METHODOLOGY.md 6.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE symbol_daily_metrics ADD COLUMN realized_vol double precision CHECK (realized_vol > 0)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE symbol_daily_metrics DROP COLUMN realized_vol`.execute(db);
}
