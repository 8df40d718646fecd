import type pg from 'pg';
import { FACTOR_COLUMNS } from '../metrics/columns.ts';

/** One position's part of a portfolio's exposure to one factor: weight × the beta it takes. */
export interface ExposurePart {
  position_id: number;
  symbol: string;
  position_type: string;
  /** the symbol whose beta the position takes (an option's underlying) */
  beta_symbol: string;
  /** delta-adjusted exposure ÷ equity */
  weight: number | null;
  dollar_exposure: number | null;
  beta: number | null;
  /** weight × beta: the parts of the held positions add up to the portfolio's exposure */
  contribution: number | null;
}

/**
 * The positions behind a portfolio's exposure to one factor on a date (default: its newest exposure
 * date): each held position's weight (as the portfolio run stored it) times the beta of its beta
 * symbol on the exposure's betas date (the `factor_*` copy in symbol_daily_metrics). Null when the
 * factor is unknown or the portfolio has no exposure on that date; the largest parts first.
 */
export async function readExposureParts(
  pool: pg.Pool,
  portfolioId: number,
  factor: string,
  date: string | undefined,
): Promise<{
  date: string;
  betas_date: string | null;
  factor: string;
  exposure: number;
  positions: ExposurePart[];
} | null> {
  const head = await pool.query<{
    date: string;
    betas_date: string | null;
    exposure: number;
    metric_column: string;
    name: string;
  }>(
    `SELECT e.calculation_date::text AS date, e.betas_date::text AS betas_date, e.exposure_value AS exposure,
            f.metric_column, f.name
       FROM factor_definitions f
       JOIN factor_exposures e ON e.factor_id = f.id AND e.portfolio_id = $1 AND e.source = 'symbol'
      WHERE lower(f.name) = lower($2)
        AND e.calculation_date = coalesce($3::date,
              (SELECT max(calculation_date) FROM factor_exposures WHERE portfolio_id = $1 AND source = 'symbol'))`,
    [portfolioId, factor, date ?? null],
  );
  const h = head.rows[0];
  if (!h) return null;
  // the column name comes from the fixed list, never from the request
  const column = FACTOR_COLUMNS.find((c) => c === h.metric_column);
  if (!column) return null;
  const { rows } = await pool.query<ExposurePart>(
    `WITH held AS (
       SELECT p.id AS position_id, p.symbol, p.position_type,
              CASE WHEN p.position_type IN ('LC', 'LP', 'SC', 'SP') THEN coalesce(p.underlying_symbol, p.symbol)
                   ELSE p.symbol END AS beta_symbol,
              v.weight, v.exposure AS dollar_exposure
         FROM positions p
         JOIN position_daily_values v ON v.position_id = p.id AND v.value_date = $2::date
        WHERE p.portfolio_id = $1 AND v.exposure IS NOT NULL)
     SELECT held.*, m.${column} AS beta, held.weight * m.${column} AS contribution
       FROM held
       LEFT JOIN symbol_daily_metrics m ON m.symbol = held.beta_symbol AND m.metric_date = $3::date
      ORDER BY abs(held.weight * m.${column}) DESC NULLS LAST, held.position_id`,
    [portfolioId, h.date, h.betas_date ?? h.date],
  );
  return { date: h.date, betas_date: h.betas_date, factor: h.name, exposure: h.exposure, positions: rows };
}
