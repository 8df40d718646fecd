import type pg from 'pg';

/**
 * The dual-write comparison. The legacy path (`position-exposures.ts`) recomputes every held
 * position's betas, and an option's delta, independently of the universe engine; this holds what
 * the engine stored to it:
 * - each legacy beta against the symbol beta of the position's beta symbol (`beta`), and R²,
 *   observations and quality flag with it;
 * - each legacy exposure (beta × delta) against the symbol path's (symbol beta × the delta the
 *   portfolio run stored in position_daily_values);
 * - each portfolio exposure the symbol path stored against Σ legacy exposure × quantity × multiplier
 *   × close of the beta symbol / equity, from the legacy rows alone;
 * - every held position that has symbol betas but no legacy row, and the reverse, is reported.
 * Numbers agree when their gap is at most 1e-8: relative, or absolute where the reference is below
 * 1e-6 in magnitude (the golden fixtures' rule). Retiring the legacy path is recommended only when
 * everything agrees.
 */
export const TOLERANCE = 1e-8;
export const ABSOLUTE_BELOW = 1e-6;

/** The fixtures' measure of a difference: relative, or absolute where |reference| < 1e-6. */
export const gap = (value: number, reference: number): number =>
  Math.abs(reference) < ABSOLUTE_BELOW
    ? Math.abs(value - reference)
    : Math.abs(value - reference) / Math.abs(reference);

export interface Discrepancy {
  date: string;
  position_id: number;
  portfolio_id: number;
  symbol: string;
  factor: string;
  /** What disagrees: `beta`, `exposure`, `r_squared`, `observations` or `quality_flag`. */
  field: string;
  symbol_value: number | string | null;
  position_value: number | string | null;
  /** position_value − symbol_value, for numbers. */
  difference: number | null;
  is_option: boolean;
}

export interface ComparisonReport {
  date_range: { start: string; end: string };
  dates_analyzed: number;
  tolerance: { relative: number; absolute_below: number };
  total_comparisons: number;
  matches: number;
  discrepancies: Discrepancy[];
  /** Legacy rows whose beta symbol has no symbol beta for the factor on the date. */
  missing_symbols: { date: string; symbol: string; position_id: number; factor: string }[];
  /** Held positions whose beta symbol has a symbol beta for the factor, but no legacy row. */
  missing_legacy: { date: string; symbol: string; position_id: number; factor: string }[];
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

interface PairRow {
  date: string;
  position_id: number;
  portfolio_id: number;
  symbol: string;
  factor: string;
  is_option: boolean;
  legacy_beta: number;
  legacy_exposure: number;
  legacy_r2: number | null;
  legacy_obs: number;
  legacy_flag: string;
  symbol_beta: number | null;
  symbol_r2: number | null;
  symbol_obs: number | null;
  symbol_flag: string | null;
  symbol_delta: number | null;
}

export async function compareDualWrite(pool: pg.Pool, start: string, end: string): Promise<ComparisonReport> {
  const pairs = await pool.query<PairRow>(
    `SELECT p.calculation_date::text AS date, p.position_id, p.portfolio_id, p.symbol, f.name AS factor, p.is_option,
            p.beta AS legacy_beta, p.exposure_value AS legacy_exposure, p.r_squared AS legacy_r2,
            p.observations AS legacy_obs, p.quality_flag AS legacy_flag,
            s.beta AS symbol_beta, s.r_squared AS symbol_r2, s.observations AS symbol_obs, s.quality_flag AS symbol_flag,
            v.delta AS symbol_delta
       FROM position_factor_exposures p
       JOIN factor_definitions f ON f.id = p.factor_id
       LEFT JOIN symbol_factor_exposures s
         ON s.symbol = p.beta_symbol AND s.factor_id = p.factor_id AND s.calculation_date = p.calculation_date
       LEFT JOIN position_daily_values v ON v.position_id = p.position_id AND v.value_date = p.calculation_date
      WHERE p.calculation_date BETWEEN $1 AND $2
      ORDER BY p.calculation_date, p.position_id, f.display_order`,
    [start, end],
  );
  const discrepancies: Discrepancy[] = [];
  const missingSymbols: ComparisonReport['missing_symbols'] = [];
  let comparisons = 0;
  let matches = 0;
  for (const r of pairs.rows) {
    if (r.symbol_beta === null) {
      missingSymbols.push({ date: r.date, symbol: r.symbol, position_id: r.position_id, factor: r.factor });
      continue;
    }
    const symbolExposure = r.is_option
      ? r.symbol_delta === null
        ? null
        : r.symbol_beta * r.symbol_delta
      : r.symbol_beta;
    const checks: [string, number | string | null, number | string | null, boolean, number | null][] = [];
    const numeric = (field: string, symbolValue: number | null, legacyValue: number | null) => {
      if (symbolValue === null || legacyValue === null) {
        checks.push([field, symbolValue, legacyValue, symbolValue === legacyValue, null]);
      } else {
        const g = gap(symbolValue, legacyValue);
        checks.push([field, symbolValue, legacyValue, g <= TOLERANCE, legacyValue - symbolValue]);
      }
    };
    numeric('beta', r.symbol_beta, r.legacy_beta);
    numeric('exposure', symbolExposure, r.legacy_exposure);
    numeric('r_squared', r.symbol_r2, r.legacy_r2);
    checks.push(['observations', r.symbol_obs, r.legacy_obs, r.symbol_obs === r.legacy_obs, null]);
    checks.push(['quality_flag', r.symbol_flag, r.legacy_flag, r.symbol_flag === r.legacy_flag, null]);
    for (const [field, symbolValue, positionValue, same, difference] of checks) {
      comparisons++;
      if (same) matches++;
      else
        discrepancies.push({
          date: r.date,
          position_id: r.position_id,
          portfolio_id: r.portfolio_id,
          symbol: r.symbol,
          factor: r.factor,
          field,
          symbol_value: symbolValue,
          position_value: positionValue,
          difference,
          is_option: r.is_option,
        });
    }
  }

  // Held positions (valued and not marked unheld by the portfolio run) whose beta symbol has symbol
  // betas, without a legacy row: the legacy path missed them.
  const missingLegacy = await pool.query<ComparisonReport['missing_legacy'][number]>(
    `SELECT v.value_date::text AS date, pos.symbol, v.position_id, f.name AS factor
       FROM position_daily_values v
       JOIN positions pos ON pos.id = v.position_id
       JOIN symbol_factor_exposures s
         ON s.symbol = COALESCE(pos.underlying_symbol, pos.symbol) AND s.calculation_date = v.value_date
       JOIN factor_definitions f ON f.id = s.factor_id
      WHERE v.value_date BETWEEN $1 AND $2 AND v.exposure IS NOT NULL AND v.exposure <> 0
        AND v.value_date IN (SELECT DISTINCT calculation_date FROM position_factor_exposures WHERE calculation_date BETWEEN $1 AND $2)
        AND NOT EXISTS (SELECT 1 FROM position_factor_exposures p
                         WHERE p.position_id = v.position_id AND p.factor_id = s.factor_id AND p.calculation_date = v.value_date)
      ORDER BY 1, 3, f.display_order`,
    [start, end],
  );

  // Portfolio exposures from the legacy rows alone: Σ beta × delta × quantity × multiplier × close / equity.
  const portfolios = await pool.query<{
    date: string;
    portfolio_id: number;
    factor: string;
    symbol_value: number;
    position_value: number;
  }>(
    `WITH legacy AS (
       SELECT p.calculation_date, p.portfolio_id, p.factor_id,
              sum(p.exposure_value * pos.quantity * pos.multiplier * c.close) AS dollars
         FROM position_factor_exposures p
         JOIN positions pos ON pos.id = p.position_id
         JOIN market_data_cache c ON c.symbol = p.beta_symbol AND c.date = p.calculation_date
        WHERE p.calculation_date BETWEEN $1 AND $2
        GROUP BY 1, 2, 3
     )
     SELECT e.calculation_date::text AS date, e.portfolio_id, f.name AS factor, e.exposure_value AS symbol_value,
            COALESCE(l.dollars, 0) / e.equity AS position_value
       FROM factor_exposures e
       JOIN factor_definitions f ON f.id = e.factor_id
       LEFT JOIN legacy l ON l.calculation_date = e.calculation_date AND l.portfolio_id = e.portfolio_id AND l.factor_id = e.factor_id
      WHERE e.source = 'symbol' AND e.calculation_date BETWEEN $1 AND $2
        AND e.calculation_date IN (SELECT DISTINCT calculation_date FROM position_factor_exposures WHERE calculation_date BETWEEN $1 AND $2)
      ORDER BY 1, 2, f.display_order`,
    [start, end],
  );
  const portfolioDiscrepancies = portfolios.rows
    .map((r) => ({ ...r, difference: r.position_value - r.symbol_value }))
    .filter((r) => !(gap(r.symbol_value, r.position_value) <= TOLERANCE));

  const dates = new Set([...pairs.rows.map((r) => r.date), ...portfolios.rows.map((r) => r.date)]);
  const portfolioTotal = portfolios.rows.length;
  const clean =
    discrepancies.length === 0 &&
    portfolioDiscrepancies.length === 0 &&
    missingSymbols.length === 0 &&
    missingLegacy.rows.length === 0 &&
    comparisons > 0;
  return {
    date_range: { start, end },
    dates_analyzed: dates.size,
    tolerance: { relative: TOLERANCE, absolute_below: ABSOLUTE_BELOW },
    total_comparisons: comparisons,
    matches,
    discrepancies,
    missing_symbols: missingSymbols,
    missing_legacy: missingLegacy.rows,
    match_rate: comparisons === 0 ? 0 : matches / comparisons,
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
