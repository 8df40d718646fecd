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
