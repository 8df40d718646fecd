import { sql, type Kysely } from 'kysely';

/**
 * Market data from providers (issue 15).
 *
 * - `market_data_cache.unadjusted_close`: the provider's raw close beside the adjusted one kept in
 *   `close` (METHODOLOGY §1 computes on adjusted closes); null for file imports, which give one close.
 * - `market_data_fetch_failures`: one row per symbol a fetch could not store, with a readable reason,
 *   so a partial run says which symbols failed and why.
 * - `market_data_revisions`: each replacement of a symbol's history (a new split or dividend changed
 *   its adjusted closes), from which date, how many dependent betas and metrics were removed so the
 *   factor and metrics runs compute them again, and how many metrics rows had their close re-set.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE market_data_cache
      ADD COLUMN unadjusted_close double precision CHECK (unadjusted_close > 0 AND unadjusted_close < 'Infinity');

    CREATE TABLE market_data_fetch_failures (
      id          bigserial PRIMARY KEY,
      run_id      text NOT NULL,
      provider    text NOT NULL,
      kind        text NOT NULL CHECK (kind IN ('prices', 'profiles')),
      symbol      text NOT NULL,
      reason      text NOT NULL,
      failed_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX market_data_fetch_failures_run_idx ON market_data_fetch_failures (run_id);
    CREATE INDEX market_data_fetch_failures_symbol_idx ON market_data_fetch_failures (symbol, failed_at DESC);

    CREATE TABLE market_data_revisions (
      id                   bigserial PRIMARY KEY,
      run_id               text NOT NULL,
      provider             text NOT NULL,
      symbol               text NOT NULL,
      first_changed        date NOT NULL,
      rows_replaced        integer NOT NULL,
      betas_invalidated    integer NOT NULL,
      metrics_invalidated  integer NOT NULL,
      metrics_repriced     integer NOT NULL,
      actions              jsonb NOT NULL DEFAULT '[]',
      revised_at           timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX market_data_revisions_symbol_idx ON market_data_revisions (symbol, revised_at DESC);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE market_data_revisions;
    DROP TABLE market_data_fetch_failures;
    ALTER TABLE market_data_cache DROP COLUMN unadjusted_close;
  `.execute(db);
}
