import { sql, type Kysely } from 'kysely';

/**
 * Per-position values of a date (price, market value, Greeks, weight, P&L) and stress-test results.
 * `symbol_universe.is_option_underlying` marks symbols that options in portfolios are written on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE symbol_universe ADD COLUMN is_option_underlying boolean NOT NULL DEFAULT false;

    CREATE TABLE position_daily_values (
      position_id        integer NOT NULL REFERENCES positions (id) ON DELETE CASCADE,
      value_date         date NOT NULL,
      portfolio_id       integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      -- close of the symbol (stock) or of the underlying (option) on the date; null when missing
      price              double precision,
      -- quantity x multiplier x price (an option at its own close, else its Black-Scholes value)
      market_value       double precision,
      -- delta-adjusted dollar exposure: the market value for a stock, delta x quantity x multiplier x spot for an option
      exposure           double precision,
      weight             double precision,
      delta              double precision,
      gamma              double precision,
      vega               double precision,
      theta              double precision,
      volatility         double precision,
      volatility_source  text CHECK (volatility_source IN ('implied', 'realized', 'default')),
      years_to_expiry    double precision,
      pnl                double precision,
      pnl_method         text NOT NULL CHECK (pnl_method IN ('price', 'option_close', 'delta_approximation', 'first_day', 'missing_price', 'expired')),
      computed_at        timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (position_id, value_date)
    );
    CREATE INDEX position_daily_values_portfolio_idx ON position_daily_values (portfolio_id, value_date);

    CREATE TABLE stress_test_results (
      portfolio_id      integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      scenario          text NOT NULL,
      calculation_date  date NOT NULL,
      pnl               double precision NOT NULL,
      pnl_pct           double precision NOT NULL,
      shocks            jsonb NOT NULL,
      computed_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (portfolio_id, scenario, calculation_date)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE stress_test_results, position_daily_values;
    ALTER TABLE symbol_universe DROP COLUMN is_option_underlying;
  `.execute(db);
}
