import { sql, type Kysely } from 'kysely';

/**
 * The whole schema of the first release.
 *
 * Every measured quantity (prices, returns, betas, R², money) is `double precision`: the engine
 * computes in IEEE-754 doubles and the golden fixtures demand agreement to 1e-8 relative, which a
 * fixed-scale `numeric(p, s)` breaks for small values (a beta of 1.234e-7 stored as numeric(12,6) is
 * 0). Storing the double keeps what was computed, bit for bit; rounding is a matter of display.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE symbol_universe (
      symbol        text PRIMARY KEY,
      asset_type    text NOT NULL DEFAULT 'equity'
                    CHECK (asset_type IN ('equity', 'etf', 'option_underlying', 'index')),
      sector        text,
      first_seen    date,
      last_seen     date,
      is_active     boolean NOT NULL DEFAULT true,
      updated_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE market_data_cache (
      symbol      text NOT NULL,
      date        date NOT NULL,
      close       double precision NOT NULL CHECK (close > 0 AND close < 'Infinity'),
      open        double precision,
      high        double precision,
      low         double precision,
      volume      double precision,
      source      text NOT NULL DEFAULT 'import',
      updated_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (symbol, date)
    );
    -- No index on date alone: window loads read most of the table, and each index costs ~3 s per 1.8M-row import.

    CREATE TABLE company_profiles (
      symbol                    text PRIMARY KEY,
      company_name              text,
      sector                    text,
      industry                  text,
      market_cap                double precision,
      market_cap_date           date,
      price_on_market_cap_date  double precision,
      enterprise_value          double precision,
      pe_ratio                  double precision,
      ps_ratio                  double precision,
      pb_ratio                  double precision,
      beta                      double precision,
      dividend_yield            double precision,
      extra                     jsonb NOT NULL DEFAULT '{}',
      updated_at                timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE factor_definitions (
      id                smallint PRIMARY KEY,
      name              text NOT NULL UNIQUE,
      category          text NOT NULL CHECK (category IN ('style', 'spread', 'market')),
      method            text NOT NULL CHECK (method IN ('ridge_regression', 'spread_regression', 'ols_market')),
      long_proxy        text NOT NULL,
      short_proxy       text,
      window_days       integer NOT NULL CHECK (window_days > 0),
      min_observations  integer NOT NULL CHECK (min_observations > 1),
      display_order     integer NOT NULL UNIQUE,
      metric_column     text NOT NULL UNIQUE,
      description       text NOT NULL,
      is_active         boolean NOT NULL DEFAULT true,
      CHECK ((method = 'spread_regression') = (short_proxy IS NOT NULL))
    );

    INSERT INTO factor_definitions
      (id, name, category, method, long_proxy, short_proxy, window_days, min_observations, display_order, metric_column, description)
    VALUES
      (1,  'Value',               'style',  'ridge_regression',  'VTV',  NULL,  365, 30, 1,  'factor_value',               'Large-cap value stocks (Vanguard Value ETF)'),
      (2,  'Growth',              'style',  'ridge_regression',  'VUG',  NULL,  365, 30, 2,  'factor_growth',              'Large-cap growth stocks (Vanguard Growth ETF)'),
      (3,  'Momentum',            'style',  'ridge_regression',  'MTUM', NULL,  365, 30, 3,  'factor_momentum',            'Price momentum (iShares MSCI USA Momentum)'),
      (4,  'Quality',             'style',  'ridge_regression',  'QUAL', NULL,  365, 30, 4,  'factor_quality',             'Profitable, stable companies (iShares MSCI USA Quality)'),
      (5,  'Size',                'style',  'ridge_regression',  'IWM',  NULL,  365, 30, 5,  'factor_size',                'Small caps (iShares Russell 2000)'),
      (6,  'Low Volatility',      'style',  'ridge_regression',  'USMV', NULL,  365, 30, 6,  'factor_low_vol',             'Minimum volatility (iShares MSCI USA Min Vol)'),
      (7,  'Growth-Value Spread', 'spread', 'spread_regression', 'VUG',  'VTV', 180, 60, 7,  'factor_growth_value_spread', 'Growth minus value (VUG - VTV)'),
      (8,  'Momentum Spread',     'spread', 'spread_regression', 'MTUM', 'SPY', 180, 60, 8,  'factor_momentum_spread',     'Momentum minus market (MTUM - SPY)'),
      (9,  'Size Spread',         'spread', 'spread_regression', 'IWM',  'SPY', 180, 60, 9,  'factor_size_spread',         'Small caps minus market (IWM - SPY)'),
      (10, 'Quality Spread',      'spread', 'spread_regression', 'QUAL', 'SPY', 180, 60, 10, 'factor_quality_spread',      'Quality minus market (QUAL - SPY)'),
      (11, 'Market Beta',         'market', 'ols_market',        'SPY',  NULL,  365, 30, 11, 'factor_market_beta',         'Sensitivity to the S&P 500 (SPY)');

    CREATE TABLE symbol_factor_exposures (
      symbol            text NOT NULL,
      factor_id         smallint NOT NULL REFERENCES factor_definitions (id),
      calculation_date  date NOT NULL,
      beta              double precision NOT NULL CHECK (beta BETWEEN -1e6 AND 1e6),
      r_squared         double precision CHECK (r_squared BETWEEN 0 AND 1),
      observations      integer NOT NULL,
      quality_flag      text NOT NULL CHECK (quality_flag IN ('full_history', 'limited_history', 'capped')),
      computed_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (symbol, factor_id, calculation_date)
    );
    CREATE INDEX symbol_factor_exposures_date_idx ON symbol_factor_exposures (calculation_date, factor_id);

    CREATE TABLE symbol_daily_metrics (
      symbol                      text NOT NULL,
      metric_date                 date NOT NULL,
      current_price               double precision,
      return_1d                   double precision,
      return_mtd                  double precision,
      return_ytd                  double precision,
      return_1m                   double precision,
      return_3m                   double precision,
      return_1y                   double precision,
      market_cap                  double precision,
      enterprise_value            double precision,
      pe_ratio                    double precision,
      ps_ratio                    double precision,
      pb_ratio                    double precision,
      company_name                text,
      sector                      text,
      industry                    text,
      factor_value                double precision,
      factor_growth               double precision,
      factor_momentum             double precision,
      factor_quality              double precision,
      factor_size                 double precision,
      factor_low_vol              double precision,
      factor_growth_value_spread  double precision,
      factor_momentum_spread      double precision,
      factor_size_spread          double precision,
      factor_quality_spread       double precision,
      factor_market_beta          double precision,
      data_quality_score          double precision CHECK (data_quality_score BETWEEN 0 AND 100),
      updated_at                  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (symbol, metric_date)
    );
    CREATE INDEX symbol_daily_metrics_date_sector_idx ON symbol_daily_metrics (metric_date, sector);

    CREATE TABLE users (
      id             serial PRIMARY KEY,
      username       text NOT NULL UNIQUE,
      password_hash  text NOT NULL,
      is_admin       boolean NOT NULL DEFAULT false,
      created_at     timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE portfolios (
      id              serial PRIMARY KEY,
      owner_id        integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      name            text NOT NULL,
      currency        text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
      equity_balance  double precision NOT NULL CHECK (equity_balance > 0 AND equity_balance < 'Infinity'),
      created_at      timestamptz NOT NULL DEFAULT now(),
      UNIQUE (owner_id, name)
    );

    CREATE TABLE positions (
      id                  serial PRIMARY KEY,
      portfolio_id        integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      symbol              text NOT NULL,
      position_type       text NOT NULL CHECK (position_type IN ('LONG', 'SHORT', 'LC', 'LP', 'SC', 'SP')),
      quantity            double precision NOT NULL,
      entry_price         double precision,
      entry_date          date,
      exit_date           date,
      underlying_symbol   text,
      strike_price        double precision CHECK (strike_price > 0),
      expiration_date     date,
      multiplier          double precision NOT NULL DEFAULT 1 CHECK (multiplier > 0),
      implied_volatility  double precision CHECK (implied_volatility > 0),
      created_at          timestamptz NOT NULL DEFAULT now(),
      UNIQUE NULLS NOT DISTINCT (portfolio_id, symbol, position_type, entry_date),
      -- quantity is signed: short stock and written options are negative
      CHECK ((position_type IN ('LONG', 'LC', 'LP')) = (quantity > 0)),
      CHECK (position_type IN ('LONG', 'SHORT')
             OR (underlying_symbol IS NOT NULL AND strike_price IS NOT NULL AND expiration_date IS NOT NULL))
    );
    CREATE INDEX positions_portfolio_idx ON positions (portfolio_id);

    -- Legacy per-position betas, kept during the dual-write transition.
    CREATE TABLE position_factor_exposures (
      position_id       integer NOT NULL REFERENCES positions (id) ON DELETE CASCADE,
      factor_id         smallint NOT NULL REFERENCES factor_definitions (id),
      calculation_date  date NOT NULL,
      portfolio_id      integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      symbol            text NOT NULL,
      beta_symbol       text NOT NULL,
      -- the underlying's beta, times delta for an option
      exposure_value    double precision NOT NULL,
      beta              double precision NOT NULL,
      delta             double precision,
      r_squared         double precision,
      observations      integer NOT NULL,
      quality_flag      text NOT NULL,
      is_option         boolean NOT NULL,
      computed_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (position_id, factor_id, calculation_date)
    );
    CREATE INDEX position_factor_exposures_date_idx ON position_factor_exposures (calculation_date, portfolio_id);

    CREATE TABLE factor_exposures (
      portfolio_id       integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      factor_id          smallint NOT NULL REFERENCES factor_definitions (id),
      calculation_date   date NOT NULL,
      source             text NOT NULL DEFAULT 'symbol' CHECK (source IN ('symbol', 'position')),
      exposure_value     double precision NOT NULL,
      exposure_dollar    double precision NOT NULL,
      equity             double precision NOT NULL,
      betas_date         date,
      positions_total    integer NOT NULL,
      positions_missing  jsonb NOT NULL DEFAULT '[]',
      computed_at        timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (portfolio_id, factor_id, calculation_date, source)
    );

    CREATE TABLE portfolio_snapshots (
      portfolio_id     integer NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
      snapshot_date    date NOT NULL,
      equity           double precision NOT NULL,
      total_value      double precision NOT NULL,
      cash             double precision NOT NULL,
      long_exposure    double precision NOT NULL,
      short_exposure   double precision NOT NULL,
      gross_exposure   double precision NOT NULL,
      net_exposure     double precision NOT NULL,
      daily_pnl        double precision,
      daily_return     double precision,
      cumulative_pnl   double precision,
      portfolio_delta  double precision,
      positions_count  integer NOT NULL,
      missing_prices   jsonb NOT NULL DEFAULT '[]',
      computed_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (portfolio_id, snapshot_date)
    );

    CREATE TABLE batch_runs (
      id               bigserial PRIMARY KEY,
      run_id           uuid NOT NULL,
      run_date         date NOT NULL,
      phase            text NOT NULL,
      status           text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'skipped')),
      items_total      integer NOT NULL DEFAULT 0,
      items_succeeded  integer NOT NULL DEFAULT 0,
      items_failed     integer NOT NULL DEFAULT 0,
      started_at       timestamptz NOT NULL DEFAULT now(),
      finished_at      timestamptz,
      duration_ms      double precision,
      error            text,
      details          jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX batch_runs_date_phase_idx ON batch_runs (run_date, phase, started_at DESC);
    CREATE INDEX batch_runs_run_idx ON batch_runs (run_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE batch_runs, portfolio_snapshots, factor_exposures, position_factor_exposures, positions,
      portfolios, users, symbol_daily_metrics, symbol_factor_exposures, factor_definitions,
      company_profiles, market_data_cache, symbol_universe;
  `.execute(db);
}
