import { sql, type Kysely } from 'kysely';

/**
 * Two outcomes the store could not name before (METHODOLOGY.md §2 and §9).
 *
 * A symbol whose own return series cannot be regressed (a non-finite return from a bad tick, or a
 * fit that comes out non-finite) is recorded as `degenerate_series`: that symbol's outcome, instead
 * of a write that fails for the batch it shares with good symbols.
 *
 * A position's P&L method `entry_day` (entered within (prev, D] with no entry price, or priced by
 * the delta approximation: books 0) and `not_held` (exited before D or entered after it: nothing).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE symbol_factor_skips DROP CONSTRAINT symbol_factor_skips_reason_check;
    ALTER TABLE symbol_factor_skips ADD CONSTRAINT symbol_factor_skips_reason_check
      CHECK (reason IN ('insufficient_observations', 'missing_proxy', 'degenerate_factor', 'degenerate_series'));
    ALTER TABLE position_daily_values DROP CONSTRAINT position_daily_values_pnl_method_check;
    ALTER TABLE position_daily_values ADD CONSTRAINT position_daily_values_pnl_method_check
      CHECK (pnl_method IN ('price', 'option_close', 'delta_approximation', 'first_day', 'missing_price', 'expired',
                            'entry_day', 'not_held'));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM symbol_factor_skips WHERE reason = 'degenerate_series';
    DELETE FROM position_daily_values WHERE pnl_method IN ('entry_day', 'not_held');
    ALTER TABLE position_daily_values DROP CONSTRAINT position_daily_values_pnl_method_check;
    ALTER TABLE position_daily_values ADD CONSTRAINT position_daily_values_pnl_method_check
      CHECK (pnl_method IN ('price', 'option_close', 'delta_approximation', 'first_day', 'missing_price', 'expired'));
    ALTER TABLE symbol_factor_skips DROP CONSTRAINT symbol_factor_skips_reason_check;
    ALTER TABLE symbol_factor_skips ADD CONSTRAINT symbol_factor_skips_reason_check
      CHECK (reason IN ('insufficient_observations', 'missing_proxy', 'degenerate_factor'));
  `.execute(db);
}
