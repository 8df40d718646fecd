import type pg from 'pg';
import type { FactorModel } from '../../factors/model.ts';
import {
  forEachSymbolForecast,
  latestPortfolioRiskDate,
  latestRiskModelDate,
  loadFactorHistory,
  loadPortfolioHistory,
  validationDate,
  windowCalendar,
} from './load.ts';
import { biasStatistic, type BiasResult } from './stats.ts';
import {
  factorBias,
  factorZ,
  rollingBias,
  specificSummary,
  specificZ,
  validatePortfolio,
  windowStart,
  type FactorBias,
  type PortfolioValidation,
  type SpecificSummary,
} from './validate.ts';

/**
 * Forecast validation answers (METHODOLOGY.md 14), in the API's shapes: load in bulk (load.ts), then
 * the pure statistics (validate.ts, stats.ts). Nothing is stored: validation is computed on ask.
 */

export const DEFAULT_WINDOW = 250;
export const MIN_WINDOW = 20;
export const MAX_WINDOW = 2500;
/** The rolling bias chart's window (trading days). */
export const ROLLING_WINDOW = 60;

export interface RiskModelValidation {
  as_of: string | null;
  window: number;
  /** Trading days found in the window (the calendar may start later). */
  days: number;
  factors: FactorBias[];
  specific: SpecificSummary;
}

/** The factor bias statistics and the specific summary over the universe, window ending at `date`. */
export async function validateRiskModel(
  pool: pg.Pool,
  model: FactorModel,
  halfLife: number,
  date: string | undefined,
  window: number,
): Promise<RiskModelValidation> {
  const calendar = model.settings.calendarSymbol;
  const asOf = await validationDate(pool, calendar, date, () => latestRiskModelDate(pool, halfLife));
  const dates = asOf ? await windowCalendar(pool, calendar, asOf, window) : [];
  const history = await loadFactorHistory(pool, model, halfLife, dates);
  const K = dates.length;
  const first = windowStart(K, window);
  const J = history.factors.length;
  const results: BiasResult[] = [];
  const z = new Float64Array(K - first);
  await forEachSymbolForecast(pool, model, dates, (_symbol, s) => {
    results.push(biasStatistic(specificZ(s, history.returns, J, first, K, z)));
  });
  return {
    as_of: asOf,
    window,
    days: K - first,
    factors: factorBias(history, window),
    specific: specificSummary(results),
  };
}

export interface RollingBias {
  as_of: string | null;
  window: number;
  dates: string[];
  factors: { factor: string; bias: (number | null)[] }[];
}

/**
 * Each factor's bias over the `window` trading days ending at each of the `days` trading days up
 * to `date` (the stored history's chart): one load of `days + window` days. A point needs at least
 * half its window usable (null otherwise), so the chart starts once forecasts have a history.
 */
export async function rollingFactorBias(
  pool: pg.Pool,
  model: FactorModel,
  halfLife: number,
  date: string | undefined,
  days: number,
  window = ROLLING_WINDOW,
): Promise<RollingBias> {
  const calendar = model.settings.calendarSymbol;
  const asOf = await validationDate(pool, calendar, date, () => latestRiskModelDate(pool, halfLife));
  const dates = asOf ? await windowCalendar(pool, calendar, asOf, days + window - 1) : [];
  const history = await loadFactorHistory(pool, model, halfLife, dates);
  // z over every calendar day (the window start 0): entry k − 0 is day k
  const zs = factorZ(history, dates.length);
  const shown = Math.min(days, dates.length);
  const from = dates.length - shown;
  return {
    as_of: asOf,
    window,
    dates: dates.slice(from),
    factors: history.factors.map((factor, j) => ({
      factor,
      bias: rollingBias(zs[j]!, window, Math.ceil(window / 2)).slice(from),
    })),
  };
}

export interface PortfolioValidationAnswer extends PortfolioValidation {
  as_of: string | null;
  window: number;
  days: number;
}

/** A portfolio's bias and VaR backtests over the window ending at `date` (default: its newest forecast). */
export async function validatePortfolioWindow(
  pool: pg.Pool,
  model: FactorModel,
  portfolioId: number,
  date: string | undefined,
  window: number,
): Promise<PortfolioValidationAnswer> {
  const calendar = model.settings.calendarSymbol;
  const asOf = await validationDate(pool, calendar, date, () => latestPortfolioRiskDate(pool, portfolioId));
  const dates = asOf ? await windowCalendar(pool, calendar, asOf, window) : [];
  const x = await loadPortfolioHistory(pool, portfolioId, dates);
  return {
    as_of: asOf,
    window,
    days: dates.length - windowStart(dates.length, window),
    ...validatePortfolio(x, window),
  };
}

export interface BacktestDay {
  date: string;
  pnl: number | null;
  /** The VaR forecasts as of the previous trading day (dollars, loss positive). */
  var_parametric_95: number | null;
  var_parametric_99: number | null;
  var_historical_95: number | null;
  var_historical_99: number | null;
}

/** The window's days with the P&L of each and the VaR forecast it is judged against (the backtest chart). */
export async function backtestDays(
  pool: pg.Pool,
  model: FactorModel,
  portfolioId: number,
  date: string | undefined,
  window: number,
): Promise<{ as_of: string | null; window: number; days: BacktestDay[] }> {
  const calendar = model.settings.calendarSymbol;
  const asOf = await validationDate(pool, calendar, date, () => latestPortfolioRiskDate(pool, portfolioId));
  const dates = asOf ? await windowCalendar(pool, calendar, asOf, window) : [];
  const x = await loadPortfolioHistory(pool, portfolioId, dates);
  const val = (a: Float64Array, k: number) => (k >= 0 && !Number.isNaN(a[k]!) ? a[k]! : null);
  const days: BacktestDay[] = [];
  for (let k = windowStart(dates.length, window); k < dates.length; k++)
    days.push({
      date: dates[k]!,
      pnl: val(x.pnl, k),
      var_parametric_95: val(x.var['parametric 0.95'], k - 1),
      var_parametric_99: val(x.var['parametric 0.99'], k - 1),
      var_historical_95: val(x.var['historical 0.95'], k - 1),
      var_historical_99: val(x.var['historical 0.99'], k - 1),
    });
  return { as_of: asOf, window, days };
}
