import type pg from 'pg';
import { addDays } from '../dates.ts';
import { copyBinary, type BinaryColumn } from '../db/copy.ts';
import { deleteDayKeys } from '../db/day-keys.ts';
import { loadCloses } from '../market/closes.ts';
import { riskDollars } from './portfolio.ts';
import type { RiskDay, RiskModel } from './types.ts';

/** Reads and writes of the risk model and the portfolio risk results: bulk, one statement per table. */

export async function saveRiskModel(client: pg.ClientBase, m: RiskModel): Promise<void> {
  await client.query(
    `INSERT INTO risk_models AS r (calculation_date, half_life, window_days, factors, covariance, observations,
       proxies, proxy_covariance, proxy_observations)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (calculation_date, half_life, window_days) DO UPDATE SET
       factors = EXCLUDED.factors, covariance = EXCLUDED.covariance, observations = EXCLUDED.observations,
       proxies = EXCLUDED.proxies, proxy_covariance = EXCLUDED.proxy_covariance,
       proxy_observations = EXCLUDED.proxy_observations, computed_at = now()`,
    [
      m.date,
      m.halfLife,
      m.windowDays,
      m.factors,
      [...m.covariance],
      m.observations,
      m.proxies,
      [...m.proxyCovariance],
      m.proxyObservations,
    ],
  );
}

/**
 * The stored risk model of the newest date on or before `date` with this half-life (of exactly
 * `date` when `exact`); undefined when there is none.
 */
export async function loadRiskModel(
  pool: pg.Pool,
  date: string,
  halfLife: number,
  exact = false,
): Promise<RiskModel | undefined> {
  const { rows } = await pool.query<{
    d: string;
    half_life: number;
    window_days: number;
    factors: string[];
    covariance: number[];
    observations: number;
    proxies: string[];
    proxy_covariance: number[];
    proxy_observations: number;
  }>(
    `SELECT calculation_date::text AS d, half_life, window_days, factors, covariance, observations, proxies,
            proxy_covariance, proxy_observations
       FROM risk_models WHERE half_life = $2 AND ${exact ? 'calculation_date = $1' : 'calculation_date <= $1'}
      ORDER BY calculation_date DESC, window_days LIMIT 1`,
    [date, halfLife],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    date: r.d,
    halfLife: r.half_life,
    windowDays: r.window_days,
    factors: r.factors,
    // the factors' proxies follow the proxy list's order: market proxy first, then one per factor
    factorProxies: r.proxies.slice(r.proxies.length - r.factors.length),
    covariance: Float64Array.from(r.covariance),
    observations: r.observations,
    proxies: r.proxies,
    proxyCovariance: Float64Array.from(r.proxy_covariance),
    proxyObservations: r.proxy_observations,
  };
}

/**
 * Ridge betas (in `factors` order) and specific volatilities of the newest calculation date on or
 * before `date`, for the given symbols (null: every symbol of that date): two queries.
 */
export async function loadRiskInputs(
  pool: pg.Pool,
  date: string,
  factors: readonly string[],
  symbols: readonly string[] | null,
): Promise<{ betas: Map<string, Float64Array>; specific: Map<string, number> }> {
  // The wide rows (migration 0010): one per (date, symbol) with the betas, subscripted by factor id,
  // and the specific vol. Betas and specific vols each come from their own newest date on or before
  // `date`, as they did from their two tables.
  const ids = await pool.query<{ id: number; name: string }>(
    'SELECT id, name FROM factor_definitions WHERE name = ANY($1)',
    [factors],
  );
  const idOf = new Map(ids.rows.map((r) => [r.name, r.id]));
  const [b, s] = await Promise.all([
    pool.query<{ symbol: string; beta: (number | null)[] }>(
      `SELECT symbol, beta FROM symbol_day_factors
        WHERE calculation_date = (SELECT max(calculation_date) FROM symbol_day_factors
                                   WHERE calculation_date <= $1 AND beta IS NOT NULL)
          AND ($2::text[] IS NULL OR symbol = ANY($2)) AND beta IS NOT NULL`,
      [date, symbols],
    ),
    pool.query<{ symbol: string; specific_vol: number }>(
      `SELECT symbol, specific_vol FROM symbol_day_factors
        WHERE calculation_date = (SELECT max(calculation_date) FROM symbol_day_factors
                                   WHERE calculation_date <= $1 AND specific_vol IS NOT NULL)
          AND ($2::text[] IS NULL OR symbol = ANY($2)) AND specific_vol IS NOT NULL`,
      [date, symbols],
    ),
  ]);
  const betas = new Map<string, Float64Array>();
  for (const r of b.rows) {
    const v = new Float64Array(factors.length).fill(NaN);
    let any = false;
    factors.forEach((name, i) => {
      const id = idOf.get(name);
      const x = id === undefined ? null : r.beta[id - 1];
      if (x === null || x === undefined) return;
      v[i] = x;
      any = true;
    });
    if (any) betas.set(r.symbol, v);
  }
  return { betas, specific: new Map(s.rows.map((r) => [r.symbol, r.specific_vol])) };
}

/**
 * A return panel: `returns[s * dates.length + t]` is symbol s's return on trading day t (oldest
 * first, NaN where a close is missing); `bySymbol` holds each symbol's row as a view of the matrix.
 */
export interface ReturnHistory {
  dates: string[];
  symbols: string[];
  returns: Float64Array;
  bySymbol: Map<string, Float64Array>;
}

/** The panel of returns of closes given as `closes[s * T + t]` (pure): the last `days` returns. */
export function returnPanel(
  m: { dates: string[]; symbols: string[]; closes: Float64Array },
  days: number,
): ReturnHistory {
  const T = m.dates.length;
  const n = Math.max(0, Math.min(days, T - 1));
  return returnsBetween(m, T - n, T - 1);
}

/**
 * The returns of the `days` trading days ending on `m.dates[end]` (pure), from a matrix of closes
 * that reaches further back and later (a block's): the same returns as `loadReturnHistory` of that
 * date. Like its read, the window starts no earlier than the (days + 1)-th trading day back nor
 * than the last trading day on or before `historyReach` (a calendar with gaps gives fewer returns),
 * nor than the matrix's first day (a calendar with fewer days gives fewer returns).
 */
export function returnsEndingAt(
  m: { dates: string[]; symbols: string[]; closes: Float64Array },
  end: number,
  days: number,
): ReturnHistory {
  if (!(end >= 0 && end < m.dates.length)) throw new Error(`no trading day at index ${end}`);
  const reach = historyReach(m.dates[end]!, days);
  let r = end;
  while (r >= 0 && m.dates[r]! > reach) r--;
  const start = Math.max(0, end - days, r);
  return returnsBetween(m, end - Math.min(days, end - start) + 1, end);
}

/** Returns of the trading days `first`..`end` (each over the day before), every symbol, as one matrix. */
function returnsBetween(
  m: { dates: string[]; symbols: string[]; closes: Float64Array },
  first: number,
  end: number,
): ReturnHistory {
  const T = m.dates.length;
  const n = end - first + 1;
  const returns = new Float64Array(m.symbols.length * n);
  const bySymbol = new Map<string, Float64Array>();
  m.symbols.forEach((s, i) => {
    const row = returns.subarray(i * n, (i + 1) * n);
    for (let t = 0; t < n; t++) row[t] = m.closes[i * T + first + t]! / m.closes[i * T + first + t - 1]! - 1;
    bySymbol.set(s, row);
  });
  return { dates: m.dates.slice(first, end + 1), symbols: m.symbols, returns, bySymbol };
}

/**
 * The earliest calendar date a `days`-day return history ending on `date` reads: 1.6 calendar days
 * per trading day reaches comfortably past `days` trading days.
 */
export function historyReach(date: string, days: number): string {
  return addDays(date, -Math.ceil(days * 1.6) - 10);
}

/**
 * Where the read of a `days`-day return history ending on `date` starts (the `from` of `loadCloses`):
 * the (days + 1)-th trading day back when that is later than `historyReach`, so that the read takes no
 * more closes than the returns need (~12 % fewer rows; the same returns either way).
 */
export async function historyStart(
  pool: pg.Pool,
  calendarSymbol: string,
  date: string,
  days: number,
): Promise<string> {
  const reach = historyReach(date, days);
  const { rows } = await pool.query<{ d: string | null }>(
    `SELECT min(d)::text AS d FROM (SELECT date AS d FROM market_data_cache
      WHERE symbol = $1 AND date <= $2 ORDER BY date DESC LIMIT $3) x`,
    [calendarSymbol, date, days + 1],
  );
  const first = rows[0]?.d ?? null;
  return first !== null && first > reach ? first : reach;
}

/**
 * The daily returns of the `days` trading days ending on `date` for many symbols (null: every
 * symbol), in one bulk read, as one matrix.
 */
export async function loadReturnHistory(
  pool: pg.Pool,
  calendarSymbol: string,
  date: string,
  days: number,
  symbols: readonly string[] | null,
): Promise<ReturnHistory> {
  const from = await historyStart(pool, calendarSymbol, date, days);
  const m = await loadCloses(pool, calendarSymbol, from, date, symbols ?? undefined);
  return returnPanel(m, days);
}

/**
 * Stored closes of the symbols (null: every symbol) on the given dates (scenario windows), one
 * query: key `symbol date`.
 */
export async function loadClosesOn(
  pool: pg.Pool,
  symbols: readonly string[] | null,
  dates: readonly string[],
): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ symbol: string; d: string; close: number }>(
    `SELECT symbol, date::text AS d, close FROM market_data_cache
      WHERE ($1::text[] IS NULL OR symbol = ANY($1)) AND date = ANY($2)`,
    [symbols, dates],
  );
  return new Map(rows.map((r) => [`${r.symbol} ${r.d}`, r.close]));
}

/** Each portfolio's stored exposures (symbol source, by factor name) and equity of `date`. */
export async function loadExposuresOn(
  pool: pg.Pool,
  date: string,
  ids: readonly number[],
): Promise<Map<number, { exposure: Map<string, number>; equity: number }>> {
  const { rows } = await pool.query<{
    portfolio_id: number;
    name: string;
    exposure_value: number;
    equity: number;
  }>(
    `SELECT e.portfolio_id, f.name, e.exposure_value, e.equity FROM factor_exposures e
       JOIN factor_definitions f ON f.id = e.factor_id
      WHERE e.calculation_date = $1 AND e.source = 'symbol' AND e.portfolio_id = ANY($2)`,
    [date, ids],
  );
  const out = new Map<number, { exposure: Map<string, number>; equity: number }>();
  for (const r of rows) {
    let p = out.get(r.portfolio_id);
    if (!p) out.set(r.portfolio_id, (p = { exposure: new Map(), equity: r.equity }));
    p.exposure.set(r.name, r.exposure_value);
  }
  return out;
}

const RISK_COLUMNS: readonly BinaryColumn[] = [
  { name: 'portfolio_id', type: 'int4' },
  { name: 'calculation_date', type: 'date' },
  { name: 'risk_model_date', type: 'date' },
  { name: 'half_life', type: 'float8' },
  { name: 'equity', type: 'float8' },
  { name: 'total_risk', type: 'float8' },
  { name: 'factor_risk', type: 'float8' },
  { name: 'specific_risk', type: 'float8' },
  { name: 'tracking_error', type: 'float8' },
  { name: 'report', type: 'jsonb' },
  { name: 'var', type: 'jsonb' },
  { name: 'hedges', type: 'jsonb' },
];

const STRESS_COLUMNS: readonly BinaryColumn[] = [
  { name: 'portfolio_id', type: 'int4' },
  { name: 'scenario', type: 'text' },
  { name: 'calculation_date', type: 'date' },
  { name: 'pnl', type: 'float8' },
  { name: 'pnl_pct', type: 'float8' },
  { name: 'shocks', type: 'jsonb' },
  { name: 'kind', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'reason', type: 'text' },
];

const ATTRIBUTION_COLUMNS: readonly BinaryColumn[] = [
  { name: 'portfolio_id', type: 'int4' },
  { name: 'calculation_date', type: 'date' },
  { name: 'daily_pnl', type: 'float8' },
  { name: 'factor_pnl', type: 'jsonb' },
  { name: 'specific_pnl', type: 'float8' },
];

/** One date's risk days, with the risk model they were computed under. */
export interface DatedRiskDays {
  date: string;
  riskModel: RiskModel;
  days: readonly RiskDay[];
}

/**
 * Writes portfolios' risk, VaR, hedges, stress results and attribution of one or several dates, on
 * the caller's transaction: the (date, portfolio) pairs' rows are deleted, then written with binary
 * COPY, one statement per table whatever the number of dates (a run writes ~10 stress rows and
 * three JSON documents per portfolio; COPY skips the per-row upsert and the text parsing of
 * numbers). A portfolio whose day now has no attribution loses the old one, as a recomputation should.
 */
export async function saveRiskDays(client: pg.ClientBase, dated: readonly DatedRiskDays[]): Promise<void> {
  const keys = dated.map((e) => ({ date: e.date, keys: e.days.map((d) => d.portfolioId) }));
  if (keys.every((k) => k.keys.length === 0)) return;
  for (const table of ['portfolio_risk', 'stress_test_results', 'portfolio_attribution'])
    await deleteDayKeys(
      client,
      { table, dateColumn: 'calculation_date', keyColumn: 'portfolio_id', keyType: 'int4' },
      keys,
    );
  await copyBinary(
    client,
    'portfolio_risk',
    RISK_COLUMNS,
    dated.flatMap(({ date, riskModel, days }) =>
      days.map((d) => [
        d.portfolioId,
        date,
        riskModel.date,
        riskModel.halfLife,
        d.risk.equity,
        d.risk.total_risk,
        d.risk.factor_risk,
        d.risk.specific_risk,
        d.risk.tracking_error,
        JSON.stringify({
          benchmark: d.risk.benchmark,
          factors: d.risk.factors,
          symbols: d.risk.symbols,
          positions: d.risk.positions,
          missing: d.risk.missing,
        }),
        JSON.stringify(d.var),
        JSON.stringify(d.hedges),
      ]),
    ),
  );
  await copyBinary(
    client,
    'stress_test_results',
    STRESS_COLUMNS,
    dated.flatMap(({ date, days }) =>
      days.flatMap((d) =>
        d.stress.map((s) => [
          d.portfolioId,
          s.scenario,
          date,
          s.pnl,
          s.pnl_percent,
          JSON.stringify(s.shocks),
          s.kind,
          s.status,
          s.reason ?? null,
        ]),
      ),
    ),
  );
  await copyBinary(
    client,
    'portfolio_attribution',
    ATTRIBUTION_COLUMNS,
    dated.flatMap(({ date, days }) =>
      days.flatMap((d) =>
        d.attribution === null
          ? []
          : [
              [
                d.portfolioId,
                date,
                d.attribution.daily_pnl,
                JSON.stringify(d.attribution.factor_pnl),
                d.attribution.specific_pnl,
              ],
            ],
      ),
    ),
  );
}

/** A portfolio by id (digits) or by name; undefined when none matches. A name shared by several is an error. */
export async function findPortfolio(
  pool: pg.Pool,
  key: string,
): Promise<{ id: number; name: string } | undefined> {
  const { rows } = await pool.query<{ id: number; name: string }>(
    /^\d+$/.test(key)
      ? 'SELECT id, name FROM portfolios WHERE id = $1::int'
      : 'SELECT id, name FROM portfolios WHERE name = $1 ORDER BY id',
    [key],
  );
  if (rows.length > 1) throw new Error(`${rows.length} portfolios are named "${key}": give its id`);
  return rows[0];
}

/** A portfolio's stored report of the newest date on or before `date`, with its stress results and attribution. */
export async function loadStoredRiskDay(
  pool: pg.Pool,
  portfolioId: number,
  date: string,
): Promise<RiskDay | undefined> {
  type Row = { d: string; report: RiskDay['risk']; var: RiskDay['var']; hedges: RiskDay['hedges'] };
  const { rows } = await pool.query<Row>(
    `SELECT calculation_date::text AS d, jsonb_build_object(
              'date', calculation_date::text, 'risk_model_date', risk_model_date::text, 'equity', equity,
              'total_risk', total_risk, 'factor_risk', factor_risk, 'specific_risk', specific_risk,
              'tracking_error', tracking_error) || report AS report, var, hedges
       FROM portfolio_risk WHERE portfolio_id = $1 AND calculation_date <= $2 ORDER BY calculation_date DESC LIMIT 1`,
    [portfolioId, date],
  );
  const r = rows[0];
  if (!r) return undefined;
  const [stress, attribution] = await Promise.all([
    pool.query<RiskDay['stress'][number]>(
      `SELECT scenario, kind, pnl, pnl_pct AS pnl_percent, status, reason, shocks FROM stress_test_results
        WHERE portfolio_id = $1 AND calculation_date = $2 ORDER BY status, pnl`,
      [portfolioId, r.d],
    ),
    pool.query<NonNullable<RiskDay['attribution']>>(
      'SELECT daily_pnl, factor_pnl, specific_pnl FROM portfolio_attribution WHERE portfolio_id = $1 AND calculation_date = $2',
      [portfolioId, r.d],
    ),
  ]);
  return {
    portfolioId,
    risk: { ...r.report, ...riskDollars(r.report) },
    var: r.var,
    hedges: r.hedges,
    stress: stress.rows,
    attribution: attribution.rows[0] ?? null,
  };
}
