import type pg from 'pg';
import { toDayNumber } from '../../dates.ts';
import { withTransaction } from '../../db/transaction.ts';
import { ridgeFactors, type FactorModel } from '../../factors/model.ts';
import { loadCloses, tradingDayOnOrBefore } from '../../market/closes.ts';
import { FACTOR_COLUMNS } from '../../metrics/columns.ts';
import type { FactorInputs, PortfolioInputs, SymbolForecasts } from './validate.ts';

/**
 * The stored forecasts and the outcomes that validate them (METHODOLOGY.md 14), read in bulk: a few
 * statements per answer whatever the window or the universe (never one per day or per symbol).
 * Forecasts are read through the seed's table names and columns (`risk_models`,
 * `symbol_daily_metrics`, `portfolio_risk`), outcomes from the closes, the metrics and the portfolio
 * snapshots.
 */

/**
 * The calendar of a window: the `T + 1` trading days ending at the last trading day on or before
 * `date` (one more than the window: the first window day's `prev`), oldest first; fewer when the
 * calendar starts later, none before its first day.
 */
export async function windowCalendar(
  pool: pg.Pool,
  calendarSymbol: string,
  date: string,
  T: number,
): Promise<string[]> {
  const { rows } = await pool.query<{ d: string }>(
    `SELECT date::text AS d FROM market_data_cache WHERE symbol = $1 AND date <= $2
      ORDER BY date DESC LIMIT $3`,
    [calendarSymbol, date, T + 1],
  );
  return rows.map((r) => r.d).reverse();
}

/** The newest date of a stored risk model with this half-life, if any. */
export async function latestRiskModelDate(pool: pg.Pool, halfLife: number): Promise<string | undefined> {
  const { rows } = await pool.query<{ d: string | null }>(
    'SELECT max(calculation_date)::text AS d FROM risk_models WHERE half_life = $1',
    [halfLife],
  );
  return rows[0]?.d ?? undefined;
}

/** The newest date of a portfolio's stored risk forecast, if any. */
export async function latestPortfolioRiskDate(
  pool: pg.Pool,
  portfolioId: number,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ d: string | null }>(
    'SELECT max(calculation_date)::text AS d FROM portfolio_risk WHERE portfolio_id = $1',
    [portfolioId],
  );
  return rows[0]?.d ?? undefined;
}

/**
 * The date a validation is as of: the requested one (its last trading day on or before it), else
 * the newest forecast's; the requested date itself when the calendar has no day that early.
 */
export async function validationDate(
  pool: pg.Pool,
  calendarSymbol: string,
  requested: string | undefined,
  latestForecast: () => Promise<string | undefined>,
): Promise<string | null> {
  const date = requested ?? (await latestForecast());
  if (date === undefined) return null;
  return (await tradingDayOnOrBefore(pool, calendarSymbol, date)) ?? date;
}

/** Daily returns on the calendar from a closes matrix: `r[s][k] = C_k / C_(k−1) − 1`, NaN at k = 0. */
function returnsOf(closes: Float64Array, s: number, K: number, out = new Float64Array(K)): Float64Array {
  out[0] = NaN;
  for (let k = 1; k < K; k++) out[k] = closes[s * K + k]! / closes[s * K + k - 1]! - 1;
  return out;
}

export interface FactorHistory extends FactorInputs {
  proxies: string[];
}

/**
 * The ridge factors' variance forecasts (the diagonal of each stored Σ of this half-life) and their
 * proxies' returns on the calendar `dates` (oldest first): two statements for the forecasts and the
 * closes' one bulk read.
 */
export async function loadFactorHistory(
  pool: pg.Pool,
  model: FactorModel,
  halfLife: number,
  dates: readonly string[],
): Promise<FactorHistory> {
  const factors = ridgeFactors(model);
  const names = factors.map((f) => f.name);
  const proxies = factors.map((f) => f.longProxy);
  const K = dates.length;
  const J = factors.length;
  const variance = new Float64Array(K * J).fill(NaN);
  const returns = new Float64Array(K * J).fill(NaN);
  if (K === 0) return { dates: [], factors: names, proxies, variance, returns };
  const index = new Map(dates.map((d, k) => [d, k]));
  const { rows } = await pool.query<{ d: string; factors: string[]; diagonal: number[] }>(
    // one model per date: the shortest window, as loadRiskModel picks; only the diagonal travels
    `SELECT DISTINCT ON (calculation_date) calculation_date::text AS d, factors,
            ARRAY(SELECT covariance[(i - 1) * cardinality(factors) + i]
                    FROM generate_subscripts(factors, 1) AS i ORDER BY i) AS diagonal
       FROM risk_models WHERE half_life = $1 AND calculation_date BETWEEN $2 AND $3
      ORDER BY calculation_date, window_days`,
    [halfLife, dates[0], dates[K - 1]],
  );
  for (const r of rows) {
    const k = index.get(r.d);
    if (k === undefined) continue; // a model stored on a day outside the calendar
    r.factors.forEach((f, i) => {
      const j = names.indexOf(f);
      if (j >= 0) variance[k * J + j] = r.diagonal[i]!;
    });
  }
  const m = await loadCloses(pool, model.settings.calendarSymbol, dates[0]!, dates[K - 1]!, proxies);
  alignCalendar(m.dates, dates);
  proxies.forEach((p, j) => {
    const s = m.symbols.indexOf(p);
    if (s < 0) return;
    const r = returnsOf(m.closes, s, K);
    for (let k = 0; k < K; k++) returns[k * J + j] = r[k]!;
  });
  return { dates: [...dates], factors: names, proxies, variance, returns };
}

/** loadCloses reads the same calendar as windowCalendar; a difference would misalign every series. */
function alignCalendar(got: readonly string[], want: readonly string[]): void {
  if (got.length !== want.length || got[0] !== want[0] || got.at(-1) !== want.at(-1))
    throw new Error(`the calendar changed while loading (${got.length} days against ${want.length})`);
}

/**
 * Every symbol's specific forecasts (six ridge betas and the specific vol, as of each calendar date)
 * and returns, handed to `each` one symbol at a time so a universe of 10,000 never sits in memory
 * as 10,000 matrices. One bulk statement over `symbol_daily_metrics`, which keeps per symbol and
 * date exactly the stored forecasts of that date (its `factor_*` columns are the day's betas and
 * `specific_vol` the day's specific volatility, copied by the metrics stage) and the outcome
 * (`return_1d`, §1's return): one row per symbol-day instead of six per-factor rows, three times
 * faster than reading `symbol_factor_exposures` and the closes (bench/validation.ts). Each
 * symbol's days travel as one binary array (int4send/float8send, as loadCloses does).
 */
export async function forEachSymbolForecast(
  pool: pg.Pool,
  model: FactorModel,
  dates: readonly string[],
  each: (symbol: string, s: SymbolForecasts) => void,
): Promise<number> {
  const K = dates.length;
  if (K < 2) return 0;
  const columns = ridgeFactors(model).map((f) => f.metricColumn);
  // column names go into the SQL: only the metrics table's own factor columns are accepted
  for (const c of columns)
    if (!(FACTOR_COLUMNS as readonly string[]).includes(c)) throw new Error(`unknown factor column ${c}`);
  const J = columns.length;
  const start = toDayNumber(dates[0]!);
  const slot = new Int32Array(toDayNumber(dates[K - 1]!) - start + 1).fill(-1);
  dates.forEach((d, k) => (slot[toDayNumber(d) - start] = k));
  const value = (c: string) => `float8send(coalesce(${c}, 'NaN'))`;
  const rows = await withTransaction(pool, async (client) => {
    await client.query("SET LOCAL work_mem = '64MB'");
    return (
      await client.query<{ symbol: string; b: Buffer }>(
        `SELECT symbol, string_agg(int4send(metric_date - $1::date) || ${[
          'return_1d',
          ...columns,
          'specific_vol',
        ]
          .map(value)
          .join(' || ')}, ''::bytea) AS b
           FROM symbol_daily_metrics WHERE metric_date BETWEEN $1 AND $2
          GROUP BY symbol ORDER BY symbol`,
        [dates[0], dates[K - 1]],
      )
    ).rows;
  });
  const record = 4 + 8 * (J + 2);
  const betas = new Float64Array(K * J);
  const specificVol = new Float64Array(K);
  const returns = new Float64Array(K);
  for (const r of rows) {
    betas.fill(NaN);
    specificVol.fill(NaN);
    returns.fill(NaN);
    for (let o = 0; o + record <= r.b.length; o += record) {
      const k = slot[r.b.readInt32BE(o)] ?? -1;
      if (k < 0) continue;
      returns[k] = r.b.readDoubleBE(o + 4);
      for (let j = 0; j < J; j++) betas[k * J + j] = r.b.readDoubleBE(o + 12 + 8 * j);
      specificVol[k] = r.b.readDoubleBE(o + 12 + 8 * J);
    }
    each(r.symbol, { betas, specificVol, returns });
  }
  return rows.length;
}

/**
 * A portfolio's stored forecasts (total risk and the four VaR figures of `portfolio_risk`) and its
 * outcomes (the snapshots' daily P&L and return) on the calendar `dates`: two statements.
 */
export async function loadPortfolioHistory(
  pool: pg.Pool,
  portfolioId: number,
  dates: readonly string[],
): Promise<PortfolioInputs> {
  const K = dates.length;
  const nan = () => new Float64Array(K).fill(NaN);
  const x: PortfolioInputs = {
    dates: [...dates],
    pnl: nan(),
    dailyReturn: nan(),
    totalRisk: nan(),
    var: {
      'parametric 0.95': nan(),
      'parametric 0.99': nan(),
      'historical 0.95': nan(),
      'historical 0.99': nan(),
    },
  };
  if (K === 0) return x;
  const index = new Map(dates.map((d, k) => [d, k]));
  const [risk, snapshots] = await Promise.all([
    pool.query<{
      d: string;
      total_risk: number;
      p95: number | null;
      p99: number | null;
      h95: number | null;
      h99: number | null;
    }>(
      `SELECT calculation_date::text AS d, total_risk,
              (var #>> '{parametric,var_95}')::float8 AS p95, (var #>> '{parametric,var_99}')::float8 AS p99,
              (var #>> '{historical,var_95}')::float8 AS h95, (var #>> '{historical,var_99}')::float8 AS h99
         FROM portfolio_risk WHERE portfolio_id = $1 AND calculation_date BETWEEN $2 AND $3`,
      [portfolioId, dates[0], dates[K - 1]],
    ),
    pool.query<{ d: string; daily_pnl: number | null; daily_return: number | null }>(
      `SELECT snapshot_date::text AS d, daily_pnl, daily_return FROM portfolio_snapshots
        WHERE portfolio_id = $1 AND snapshot_date BETWEEN $2 AND $3`,
      [portfolioId, dates[0], dates[K - 1]],
    ),
  ]);
  for (const r of risk.rows) {
    const k = index.get(r.d);
    if (k === undefined) continue;
    x.totalRisk[k] = r.total_risk;
    x.var['parametric 0.95'][k] = r.p95 ?? NaN;
    x.var['parametric 0.99'][k] = r.p99 ?? NaN;
    x.var['historical 0.95'][k] = r.h95 ?? NaN;
    x.var['historical 0.99'][k] = r.h99 ?? NaN;
  }
  for (const r of snapshots.rows) {
    const k = index.get(r.d);
    if (k === undefined) continue;
    x.pnl[k] = r.daily_pnl ?? NaN;
    x.dailyReturn[k] = r.daily_return ?? NaN;
  }
  return x;
}
