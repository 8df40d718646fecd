import { sql, type Kysely } from 'kysely';

/**
 * Benchmark-relative numbers and limits (METHODOLOGY.md 15).
 *
 * A portfolio's benchmark is a symbol or another portfolio of the same owner (both null: the
 * configured default, FU_BENCHMARK). Per portfolio and date the stage stores the active exposures,
 * the tracking error to that benchmark with its contributions, and the active return. Limits bound
 * one number of a portfolio; a breach is stored once per (limit, date), with the bound it broke
 * (copied, so that a later edit of the limit does not rewrite the past).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE portfolios
      ADD COLUMN benchmark_symbol text,
      ADD COLUMN benchmark_portfolio_id integer REFERENCES portfolios(id) ON DELETE SET NULL,
      ADD CONSTRAINT portfolios_one_benchmark CHECK (benchmark_symbol IS NULL OR benchmark_portfolio_id IS NULL),
      ADD CONSTRAINT portfolios_not_own_benchmark CHECK (benchmark_portfolio_id IS DISTINCT FROM id);

    CREATE TABLE portfolio_active_days (
      portfolio_id integer NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
      calculation_date date NOT NULL,
      benchmark_symbol text,
      benchmark_portfolio_id integer,
      active_exposures jsonb NOT NULL,
      tracking_error double precision,
      active_return double precision,
      contributions jsonb NOT NULL,
      computed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (portfolio_id, calculation_date)
    );

    CREATE TABLE portfolio_limits (
      id serial PRIMARY KEY,
      portfolio_id integer NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      metric text NOT NULL CHECK (metric IN ('exposure', 'active_exposure', 'total_risk', 'tracking_error', 'var',
                                             'max_position_weight')),
      factor text,
      method text CHECK (method IN ('parametric', 'historical')),
      confidence double precision CHECK (confidence IN (0.95, 0.99)),
      lower double precision,
      upper double precision,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (lower IS NOT NULL OR upper IS NOT NULL),
      CHECK (lower IS NULL OR upper IS NULL OR lower <= upper)
    );
    CREATE INDEX portfolio_limits_portfolio ON portfolio_limits (portfolio_id, id);

    CREATE TABLE portfolio_limit_breaches (
      limit_id integer NOT NULL REFERENCES portfolio_limits(id) ON DELETE CASCADE,
      breach_date date NOT NULL,
      portfolio_id integer NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
      name text NOT NULL,
      value double precision NOT NULL,
      lower double precision,
      upper double precision,
      computed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (limit_id, breach_date)
    );
    CREATE INDEX portfolio_limit_breaches_portfolio ON portfolio_limit_breaches (portfolio_id, breach_date);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE portfolio_limit_breaches;
    DROP TABLE portfolio_limits;
    DROP TABLE portfolio_active_days;
    ALTER TABLE portfolios DROP COLUMN benchmark_portfolio_id, DROP COLUMN benchmark_symbol;
  `.execute(db);
}
