import type pg from 'pg';

/**
 * Keeps `symbol_universe` current after prices or company profiles change.
 *
 * Asset type: a factor proxy is an ETF; once company profiles exist, a priced symbol without a profile
 * is taken for an ETF too (profiles describe operating companies); everything else is an equity.
 * Active: the symbol has a close within 10 calendar days of the newest close in the store.
 * Option underlyings: symbols that options in portfolios are written on are flagged; one without any
 * price yet is listed with asset type `option_underlying`.
 * Only rows whose values change are written, so a repeated import leaves the table untouched.
 */
export async function refreshUniverse(client: pg.ClientBase): Promise<void> {
  await client.query(`
    INSERT INTO symbol_universe (symbol, asset_type, is_option_underlying, is_active)
    SELECT DISTINCT underlying_symbol, 'option_underlying', true, false FROM positions WHERE underlying_symbol IS NOT NULL
    ON CONFLICT (symbol) DO NOTHING`);
  await client.query(`
    UPDATE symbol_universe u SET is_option_underlying = NOT u.is_option_underlying, updated_at = now()
     WHERE u.is_option_underlying <> EXISTS (SELECT 1 FROM positions p WHERE p.underlying_symbol = u.symbol)`);
  await client.query(`
    WITH proxies AS (
      SELECT long_proxy AS symbol FROM factor_definitions
      UNION SELECT short_proxy FROM factor_definitions WHERE short_proxy IS NOT NULL
    ),
    newest AS (SELECT max(last_seen) AS d FROM symbol_universe),
    target AS (
      SELECT u.symbol,
             CASE WHEN u.symbol IN (SELECT symbol FROM proxies) THEN 'etf'
                  WHEN cp.symbol IS NULL AND EXISTS (SELECT 1 FROM company_profiles) THEN 'etf'
                  ELSE 'equity' END AS asset_type,
             cp.sector,
             u.last_seen >= (SELECT d FROM newest) - 10 AS is_active
      FROM symbol_universe u LEFT JOIN company_profiles cp ON cp.symbol = u.symbol
      WHERE u.first_seen IS NOT NULL
    )
    UPDATE symbol_universe u
       SET asset_type = t.asset_type, sector = t.sector, is_active = t.is_active, updated_at = now()
      FROM target t
     WHERE u.symbol = t.symbol
       AND (u.asset_type, u.sector, u.is_active) IS DISTINCT FROM (t.asset_type, t.sector, t.is_active)`);
}

/** Which of `symbols` the store does not know (neither priced nor an option underlying). */
export async function unknownSymbols(pool: pg.Pool, symbols: readonly string[]): Promise<Set<string>> {
  const { rows } = await pool.query<{ symbol: string }>(
    'SELECT s AS symbol FROM unnest($1::text[]) AS s WHERE NOT EXISTS (SELECT 1 FROM symbol_universe u WHERE u.symbol = s)',
    [[...new Set(symbols)]],
  );
  return new Set(rows.map((r) => r.symbol));
}
