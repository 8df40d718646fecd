import { sql, type Kysely } from 'kysely';

/**
 * The risk model (METHODOLOGY.md 10–13): each symbol's specific volatility beside its betas, the
 * factor and proxy covariances of a date (keyed by the model parameters), and per portfolio and date
 * the risk report, VaR, hedges and factor P&L attribution. Stress results gain the scenario kind and
 * a status: a scenario that moves nothing of the model is stored as not applicable, with its reason.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE symbol_specific_risk (
      symbol            text NOT NULL,
      calculation_date  date NOT NULL,
      -- sqrt(252 x sum of squared ridge residuals / (n - 1)), annualised
      specific_vol      double precision NOT NULL CHECK (specific_vol >= 0),
      observations      integer NOT NULL,
      computed_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (calculation_date, symbol)
    );

    ALTER TABLE symbol_daily_metrics ADD COLUMN specific_vol double precision CHECK (specific_vol >= 0);

    CREATE TABLE risk_models (
      calculation_date    date NOT NULL,
      half_life           double precision NOT NULL CHECK (half_life > 0),
      window_days         integer NOT NULL,
      -- the ridge factors, in model order, and their k x k annualised covariance (row-major)
      factors             text[] NOT NULL,
      covariance          double precision[] NOT NULL,
      observations        integer NOT NULL,
      -- the seven proxies of the stress tests and their 7 x 7 covariance, computed the same way
      proxies             text[] NOT NULL,
      proxy_covariance    double precision[] NOT NULL,
      proxy_observations  integer NOT NULL,
      computed_at         timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (calculation_date, half_life, window_days)
    );

    CREATE TABLE portfolio_risk (
      portfolio_id      integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      calculation_date  date NOT NULL,
      risk_model_date   date NOT NULL,
      half_life         double precision NOT NULL,
      equity            double precision NOT NULL,
      total_risk        double precision NOT NULL,
      factor_risk       double precision NOT NULL,
      specific_risk     double precision NOT NULL,
      tracking_error    double precision,
      -- contributions by factor, symbol and position, and the positions left out
      report            jsonb NOT NULL,
      var               jsonb NOT NULL,
      hedges            jsonb NOT NULL,
      computed_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (portfolio_id, calculation_date)
    );

    CREATE TABLE portfolio_attribution (
      portfolio_id      integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      calculation_date  date NOT NULL,
      daily_pnl         double precision NOT NULL,
      -- factor name -> equity_prev x exposure_prev x factor return of the day
      factor_pnl        jsonb NOT NULL,
      specific_pnl      double precision NOT NULL,
      computed_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (portfolio_id, calculation_date)
    );

    ALTER TABLE stress_test_results
      ADD COLUMN kind text NOT NULL DEFAULT 'shock' CHECK (kind IN ('shock', 'historical')),
      ADD COLUMN status text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'not_applicable')),
      ADD COLUMN reason text,
      ALTER COLUMN pnl DROP NOT NULL,
      ALTER COLUMN pnl_pct DROP NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM stress_test_results WHERE pnl IS NULL OR pnl_pct IS NULL;
    ALTER TABLE stress_test_results DROP COLUMN kind, DROP COLUMN status, DROP COLUMN reason,
      ALTER COLUMN pnl SET NOT NULL, ALTER COLUMN pnl_pct SET NOT NULL;
    DROP TABLE portfolio_attribution, portfolio_risk, risk_models, symbol_specific_risk;
    ALTER TABLE symbol_daily_metrics DROP COLUMN specific_vol;
  `.execute(db);
}
