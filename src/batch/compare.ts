import type pg from 'pg';

/**
 * The dual-write comparison: for every legacy position exposure in the range, the symbol-level value
 * (the symbol's beta, × delta for an option) against the position-level one, and for every portfolio
 * exposure the symbol-path value against Σ weight × legacy beta. Recommends retiring the legacy path
 * only when everything matches.
 */
export const BETA_TOLERANCE = 1e-4;
export const PORTFOLIO_TOLERANCE = 1e-3;

export interface Discrepancy {
  date: string;
  position_id: number;
  portfolio_id: number;
  symbol: string;
  factor: string;
  symbol_value: number;
  position_value: number;
  difference: number;
  is_option: boolean;
}

export interface ComparisonReport {
  date_range: { start: string; end: string };
  dates_analyzed: number;
  total_comparisons: number;
  matches: number;
  discrepancies: Discrepancy[];
  missing_symbols: { date: string; symbol: string; position_id: number }[];
  match_rate: number;
  recommendation: 'SAFE_TO_DEPRECATE' | 'INVESTIGATE_DISCREPANCIES';
  portfolio_comparison: {
    total_comparisons: number;
    matches: number;
    match_rate: number;
    discrepancies: {
      date: string;
      portfolio_id: number;
      factor: string;
      symbol_value: number;
      position_value: number;
      difference: number;
    }[];
  };
}

export async function compareDualWrite(pool: pg.Pool, start: string, end: string): Promise<ComparisonReport> {
  const positions = await pool.query<Discrepancy & { has_symbol: boolean }>(
    `SELECT p.calculation_date::text AS date, p.position_id, p.portfolio_id, p.symbol, f.name AS factor,
            s.beta * COALESCE(p.delta, 1) AS symbol_value, p.exposure_value AS position_value,
            p.exposure_value - s.beta * COALESCE(p.delta, 1) AS difference, p.is_option, s.symbol IS NOT NULL AS has_symbol
       FROM position_factor_exposures p
       JOIN factor_definitions f ON f.id = p.factor_id
       LEFT JOIN symbol_factor_exposures s
         ON s.symbol = p.beta_symbol AND s.factor_id = p.factor_id AND s.calculation_date = p.calculation_date
      WHERE p.calculation_date BETWEEN $1 AND $2
      ORDER BY p.calculation_date, p.position_id, f.display_order`,
    [start, end],
  );
  const missing = new Map<string, { date: string; symbol: string; position_id: number }>();
  const discrepancies: Discrepancy[] = [];
  let matches = 0;
  for (const r of positions.rows) {
    if (!r.has_symbol) {
      missing.set(`${r.date}|${r.position_id}`, {
        date: r.date,
        symbol: r.symbol,
        position_id: r.position_id,
      });
      continue;
    }
    if (Math.abs(r.difference) <= BETA_TOLERANCE) matches++;
    else {
      discrepancies.push({
        date: r.date,
        position_id: r.position_id,
        portfolio_id: r.portfolio_id,
        symbol: r.symbol,
        factor: r.factor,
        symbol_value: r.symbol_value,
        position_value: r.position_value,
        difference: r.difference,
        is_option: r.is_option,
      });
    }
  }
  const portfolios = await pool.query<{
    date: string;
    portfolio_id: number;
    factor: string;
    symbol_value: number;
    position_value: number;
  }>(
    `WITH legacy AS (
       SELECT p.calculation_date, v.portfolio_id, p.factor_id, sum(v.weight * p.beta) AS value
         FROM position_factor_exposures p
         JOIN position_daily_values v ON v.position_id = p.position_id AND v.value_date = p.calculation_date
        WHERE p.calculation_date BETWEEN $1 AND $2 AND v.weight IS NOT NULL
        GROUP BY 1, 2, 3
     )
     SELECT e.calculation_date::text AS date, e.portfolio_id, f.name AS factor, e.exposure_value AS symbol_value,
            COALESCE(l.value, 0) AS position_value
       FROM factor_exposures e
       JOIN factor_definitions f ON f.id = e.factor_id
       LEFT JOIN legacy l ON l.calculation_date = e.calculation_date AND l.portfolio_id = e.portfolio_id AND l.factor_id = e.factor_id
      WHERE e.source = 'symbol' AND e.calculation_date BETWEEN $1 AND $2
      ORDER BY 1, 2, f.display_order`,
    [start, end],
  );
  const portfolioDiscrepancies = portfolios.rows
    .map((r) => ({ ...r, difference: r.position_value - r.symbol_value }))
    .filter((r) => Math.abs(r.difference) > PORTFOLIO_TOLERANCE);
  const dates = new Set([...positions.rows.map((r) => r.date), ...portfolios.rows.map((r) => r.date)]);
  const total = matches + discrepancies.length;
  const portfolioTotal = portfolios.rows.length;
  const clean =
    discrepancies.length === 0 && portfolioDiscrepancies.length === 0 && missing.size === 0 && total > 0;
  return {
    date_range: { start, end },
    dates_analyzed: dates.size,
    total_comparisons: total,
    matches,
    discrepancies,
    missing_symbols: [...missing.values()],
    match_rate: total === 0 ? 0 : matches / total,
    recommendation: clean ? 'SAFE_TO_DEPRECATE' : 'INVESTIGATE_DISCREPANCIES',
    portfolio_comparison: {
      total_comparisons: portfolioTotal,
      matches: portfolioTotal - portfolioDiscrepancies.length,
      match_rate:
        portfolioTotal === 0 ? 0 : (portfolioTotal - portfolioDiscrepancies.length) / portfolioTotal,
      discrepancies: portfolioDiscrepancies,
    },
  };
}
