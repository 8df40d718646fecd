import type pg from 'pg';

/** The stored values of a position on a date (columns of `position_daily_values`), each possibly null. */
export const POSITION_VALUE_NUMBERS = [
  'price',
  'market_value',
  'exposure',
  'weight',
  'delta',
  'gamma',
  'vega',
  'theta',
  'pnl',
] as const;

export type PositionValueRow = {
  position_id: number;
  symbol: string;
  position_type: string;
  quantity: number;
  /** the symbol whose betas the position takes: the underlying for an option */
  beta_symbol: string;
  underlying_symbol: string | null;
  strike_price: number | null;
  expiration_date: string | null;
  entry_date: string | null;
  exit_date: string | null;
  multiplier: number;
  /**
   * On the date (METHODOLOGY §7, "held at the close of D"): `held`; `expired` (an option with
   * expiration_date ≤ D); `exited` (exit_date ≤ D); `not_entered` (entry_date > D).
   */
  status: 'held' | 'expired' | 'exited' | 'not_entered';
} & Record<(typeof POSITION_VALUE_NUMBERS)[number], number | null>;

/**
 * A portfolio's positions valued on a date (the newest valued date when none is given), as the
 * portfolio batch stored them in `position_daily_values`; positions without a value that day are
 * listed with nulls.
 */
export async function readPositionValues(
  pool: pg.Pool,
  portfolioId: number,
  date: string | undefined,
): Promise<{ date: string | null; positions: PositionValueRow[] }> {
  const { rows } = await pool.query<PositionValueRow & { value_date: string | null }>(
    `WITH d AS (
       SELECT coalesce($2::date, (SELECT max(value_date) FROM position_daily_values WHERE portfolio_id = $1)) AS date)
     SELECT p.id AS position_id, p.symbol, p.position_type, p.quantity,
            CASE WHEN p.position_type IN ('LC', 'LP', 'SC', 'SP') THEN coalesce(p.underlying_symbol, p.symbol) ELSE p.symbol END AS beta_symbol,
            p.underlying_symbol, p.strike_price, p.expiration_date::text AS expiration_date,
            p.entry_date::text AS entry_date, p.exit_date::text AS exit_date, p.multiplier,
            CASE WHEN d.date IS NULL THEN 'held'
                 WHEN p.entry_date > d.date THEN 'not_entered'
                 WHEN p.position_type IN ('LC', 'LP', 'SC', 'SP') AND p.expiration_date <= d.date THEN 'expired'
                 WHEN p.exit_date <= d.date THEN 'exited'
                 ELSE 'held' END AS status,
            ${POSITION_VALUE_NUMBERS.map((c) => `v.${c}`).join(', ')},
            d.date::text AS value_date
       FROM positions p CROSS JOIN d
       LEFT JOIN position_daily_values v ON v.position_id = p.id AND v.value_date = d.date
      WHERE p.portfolio_id = $1
      ORDER BY abs(coalesce(v.exposure, 0)) DESC, p.id`,
    [portfolioId, date ?? null],
  );
  return {
    date: rows[0]?.value_date ?? date ?? null,
    positions: rows.map(({ value_date: _d, ...r }) => r),
  };
}
