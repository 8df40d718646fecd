import type pg from 'pg';
import { toDayNumber } from '../../dates.ts';
import { withTransaction } from '../../db/transaction.ts';
import { ridgeFactors, type FactorModel } from '../../factors/model.ts';
import { loadCloses, tradingDayOnOrBefore } from '../../market/closes.ts';
import type { FactorInputs, PortfolioInputs, SymbolForecasts } from './validate.ts';

/**
 * The stored forecasts and the outcomes that validate them (METHODOLOGY.md 14), read in bulk: a few
 * statements per answer whatever the window or the universe (never one per day or per symbol).
 * Forecasts are read through the seed's table names and columns (`risk_models`,
 * `symbol_factor_exposures`, `symbol_specific_risk`, `portfolio_risk`), outcomes from the closes and
 * the portfolio snapshots.
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
 * as 10,000 matrices. Three bulk statements: betas and specific vols aggregated per symbol as binary
 * arrays (`int4send`/`float8send`, as loadCloses does), and the closes.
 */
export async function forEachSymbolForecast(
  pool: pg.Pool,
  model: FactorModel,
  dates: readonly string[],
  each: (symbol: string, s: SymbolForecasts) => void,
): Promise<number> {
  const K = dates.length;
  if (K < 2) return 0;
  const factors = ridgeFactors(model);
  const J = factors.length;
  const ids = factors.map((f) => f.id);
  const from = dates[0]!;
  const lastForecast = dates[K - 2]!;
  const start = toDayNumber(from);
  const slot = new Int32Array(toDayNumber(dates[K - 1]!) - start + 1).fill(-1);
  dates.forEach((d, k) => (slot[toDayNumber(d) - start] = k));

  const [betaRows, volRows, closes] = await Promise.all([
    withTransaction(pool, async (client) => {
      await client.query("SET LOCAL work_mem = '64MB'");
      return (
        await client.query<{ symbol: string; days: Buffer; factors: Buffer; betas: Buffer }>(
          `SELECT symbol, string_agg(int4send(calculation_date - $1::date), ''::bytea) AS days,
                  string_agg(int4send(array_position($3::int[], factor_id)), ''::bytea) AS factors,
                  string_agg(float8send(beta), ''::bytea) AS betas
             FROM symbol_factor_exposures
            WHERE calculation_date BETWEEN $1 AND $2 AND factor_id = ANY($3)
            GROUP BY symbol ORDER BY symbol`,
          [from, lastForecast, ids],
        )
      ).rows;
    }),
    pool.query<{ symbol: string; days: Buffer; vols: Buffer }>(
      `SELECT symbol, string_agg(int4send(calculation_date - $1::date), ''::bytea) AS days,
              string_agg(float8send(specific_vol), ''::bytea) AS vols
         FROM symbol_specific_risk WHERE calculation_date BETWEEN $1 AND $2
        GROUP BY symbol ORDER BY symbol`,
      [from, lastForecast],
    ),
    loadCloses(pool, model.settings.calendarSymbol, from, dates[K - 1]!),
  ]);
  alignCalendar(closes.dates, dates);
  const closeRow = new Map(closes.symbols.map((s, i) => [s, i]));
  const betaRow = new Map(betaRows.map((r, i) => [r.symbol, i]));
  const betas = new Float64Array(K * J);
  const specificVol = new Float64Array(K);
  const returns = new Float64Array(K);
  let symbols = 0;
  for (const v of volRows.rows) {
    const c = closeRow.get(v.symbol);
    const b = betaRow.get(v.symbol);
    if (c === undefined || b === undefined) continue;
    specificVol.fill(NaN);
    for (let i = 0; i < v.vols.length / 8; i++) {
      const k = slot[v.days.readInt32BE(i * 4)] ?? -1;
      if (k >= 0) specificVol[k] = v.vols.readDoubleBE(i * 8);
    }
    betas.fill(NaN);
    const br = betaRows[b]!;
    for (let i = 0; i < br.betas.length / 8; i++) {
      const k = slot[br.days.readInt32BE(i * 4)] ?? -1;
      const j = br.factors.readInt32BE(i * 4) - 1;
      if (k >= 0 && j >= 0) betas[k * J + j] = br.betas.readDoubleBE(i * 8);
    }
    symbols++;
    each(v.symbol, { betas, specificVol, returns: returnsOf(closes.closes, c, K, returns) });
  }
  return symbols;
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
