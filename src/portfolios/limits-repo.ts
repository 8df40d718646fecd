import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { benchmarkOrder, BenchmarkCycleError, type BenchmarkRef } from './benchmark.ts';
import {
  isBreached,
  limitValue,
  type Limit,
  type LimitInputs,
  type LimitMetric,
  type VarMethod,
} from './limits.ts';

/**
 * The queries behind the benchmark, exposure-history, limits and breaches routes (METHODOLOGY.md 15).
 * Every function takes the owner: another user's portfolio is `null` (the route answers 404).
 */

export class BenchmarkProblem extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export async function ownsPortfolio(pool: pg.Pool, id: number, owner: number): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM portfolios WHERE id = $1 AND owner_id = $2', [
    id,
    owner,
  ]);
  return (rowCount ?? 0) > 0;
}

export async function ownerOf(pool: pg.Pool, id: number): Promise<number> {
  const { rows } = await pool.query<{ o: number }>('SELECT owner_id AS o FROM portfolios WHERE id = $1', [
    id,
  ]);
  if (!rows[0]) throw new BenchmarkProblem(404, `no portfolio ${id}`);
  return rows[0].o;
}

/** The portfolio's benchmark as stored; `null` when none is set (the configured default applies). */
export async function readBenchmark(pool: pg.Pool, id: number): Promise<BenchmarkRef | null> {
  const { rows } = await pool.query<{ s: string | null; p: number | null }>(
    'SELECT benchmark_symbol AS s, benchmark_portfolio_id AS p FROM portfolios WHERE id = $1',
    [id],
  );
  const r = rows[0];
  if (!r) return null;
  return r.p !== null ? { portfolio_id: r.p } : r.s !== null ? { symbol: r.s } : null;
}

/**
 * Sets (or, with null, clears) a portfolio's benchmark. A symbol must have prices in the store; a
 * portfolio must be the same owner's (else 404, as if it did not exist); a change that closes a cycle
 * of benchmarks is a 400 naming its portfolios. The owner's portfolios are locked while checking.
 */
export async function setBenchmark(
  pool: pg.Pool,
  id: number,
  owner: number,
  benchmark: BenchmarkRef | null,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: number; b: number | null }>(
      'SELECT id, benchmark_portfolio_id AS b FROM portfolios WHERE owner_id = $1 ORDER BY id FOR UPDATE',
      [owner],
    );
    const edges = new Map(rows.map((r) => [r.id, r.b]));
    if (!edges.has(id)) throw new BenchmarkProblem(404, `no portfolio ${id}`);
    let symbol: string | null = null;
    let portfolio: number | null = null;
    if (benchmark && 'portfolio_id' in benchmark) {
      portfolio = benchmark.portfolio_id;
      if (!edges.has(portfolio))
        throw new BenchmarkProblem(404, `no portfolio ${portfolio} (benchmark.portfolio_id)`);
      edges.set(id, portfolio);
      try {
        benchmarkOrder(edges);
      } catch (e) {
        if (e instanceof BenchmarkCycleError)
          throw new BenchmarkProblem(400, `benchmark.portfolio_id: ${e.message}`, { cycle: e.cycle });
        throw e;
      }
    } else if (benchmark) {
      symbol = benchmark.symbol.trim().toUpperCase();
      const known = await client.query('SELECT 1 FROM market_data_cache WHERE symbol = $1 LIMIT 1', [symbol]);
      if (!known.rowCount) throw new BenchmarkProblem(400, `benchmark.symbol: no prices for ${symbol}`);
    }
    await client.query(
      'UPDATE portfolios SET benchmark_symbol = $2, benchmark_portfolio_id = $3 WHERE id = $1',
      [id, symbol, portfolio],
    );
  });
}

export interface HistoryRow {
  date: string;
  exposures: Record<string, number>;
  active_exposures: Record<string, number | null>;
  tracking_error: number | null;
  active_return: number | null;
}

/** Stored dates in [from, to], the newest `max` of them, oldest first. */
export async function exposureHistory(
  pool: pg.Pool,
  id: number,
  from: string,
  to: string,
  max: number,
): Promise<{ rows: HistoryRow[]; total: number }> {
  const { rows } = await pool.query<{
    date: string;
    exposures: Record<string, number>;
    active_exposures: Record<string, number | null> | null;
    tracking_error: number | null;
    active_return: number | null;
    total: number;
  }>(
    `WITH e AS (
       SELECT DISTINCT ON (e.calculation_date, e.factor_id) e.calculation_date AS d, f.name, e.exposure_value AS v
         FROM factor_exposures e JOIN factor_definitions f ON f.id = e.factor_id
        WHERE e.portfolio_id = $1 AND e.calculation_date BETWEEN $2 AND $3
        ORDER BY e.calculation_date, e.factor_id, (e.source = 'symbol') DESC
     ), days AS (
       SELECT d, jsonb_object_agg(name, v) AS exposures, count(*) OVER () AS total
         FROM e GROUP BY d ORDER BY d DESC LIMIT $4
     )
     SELECT days.d::text AS date, days.exposures, a.active_exposures, a.tracking_error, a.active_return,
            days.total::int AS total
       FROM days LEFT JOIN portfolio_active_days a ON a.portfolio_id = $1 AND a.calculation_date = days.d
      ORDER BY days.d`,
    [id, from, to, max],
  );
  return {
    total: rows[0]?.total ?? 0,
    rows: rows.map((r) => ({
      date: r.date,
      exposures: r.exposures,
      active_exposures: r.active_exposures ?? {},
      tracking_error: r.tracking_error,
      active_return: r.active_return,
    })),
  };
}

export interface LimitInput {
  name: string;
  metric: LimitMetric;
  factor?: string | null;
  method?: VarMethod | null;
  confidence?: number | null;
  lower?: number | null;
  upper?: number | null;
}

/** Most limits one portfolio may have (every list is bounded). */
export const MAX_LIMITS_PER_PORTFOLIO = 200;

/** A limit's fields checked and normalised, or a 400 naming the field. */
export async function normaliseLimit(
  pool: pg.Pool,
  l: LimitInput,
): Promise<Omit<Limit, 'id' | 'portfolio_id'>> {
  const bad = (m: string) => new BenchmarkProblem(400, m);
  const lower = l.lower ?? null;
  const upper = l.upper ?? null;
  if (lower === null && upper === null) throw bad('lower/upper: give at least one bound');
  if (lower !== null && upper !== null && lower > upper)
    throw bad(`lower (${lower}) is above upper (${upper})`);
  const needsFactor = l.metric === 'exposure' || l.metric === 'active_exposure';
  let factor: string | null = null;
  if (needsFactor) {
    if (!l.factor) throw bad(`factor: required for metric ${l.metric}`);
    const { rowCount } = await pool.query('SELECT 1 FROM factor_definitions WHERE name = $1', [l.factor]);
    if (!rowCount) throw bad(`factor: no factor named ${JSON.stringify(l.factor)}`);
    factor = l.factor;
  } else if (l.factor) throw bad(`factor: only for metric exposure or active_exposure`);
  let method: VarMethod | null = null;
  let confidence: 0.95 | 0.99 | null = null;
  if (l.metric === 'var') {
    method = l.method ?? 'parametric';
    const c = l.confidence ?? 0.95;
    if (c !== 0.95 && c !== 0.99) throw bad(`confidence: 0.95 or 0.99, got ${c}`);
    confidence = c;
  } else if (l.method || l.confidence) throw bad('method/confidence: only for metric var');
  return { name: l.name, metric: l.metric, factor, method, confidence, lower, upper };
}

const COLUMNS = 'id, portfolio_id, name, metric, factor, method, confidence, lower, upper';

export async function listLimits(
  pool: pg.Pool,
  id: number,
  limit: number,
  offset: number,
): Promise<{ limits: Limit[]; total: number }> {
  const [rows, total] = await Promise.all([
    pool.query<Limit>(
      `SELECT ${COLUMNS} FROM portfolio_limits WHERE portfolio_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
      [id, limit, offset],
    ),
    pool.query<{ n: number }>('SELECT count(*)::int AS n FROM portfolio_limits WHERE portfolio_id = $1', [
      id,
    ]),
  ]);
  return { limits: rows.rows, total: total.rows[0]!.n };
}

export async function createLimit(
  pool: pg.Pool,
  id: number,
  l: Omit<Limit, 'id' | 'portfolio_id'>,
): Promise<Limit> {
  return withTransaction(pool, async (client) => {
    // the count and the insert under the portfolio's row lock: concurrent posts cannot pass the cap
    await client.query('SELECT 1 FROM portfolios WHERE id = $1 FOR UPDATE', [id]);
    const n = (
      await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM portfolio_limits WHERE portfolio_id = $1',
        [id],
      )
    ).rows[0]!.n;
    if (n >= MAX_LIMITS_PER_PORTFOLIO)
      throw new BenchmarkProblem(400, `portfolio ${id} has ${n} limits, the most allowed`);
    const { rows } = await client.query<Limit>(
      `INSERT INTO portfolio_limits (portfolio_id, name, metric, factor, method, confidence, lower, upper)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [id, l.name, l.metric, l.factor, l.method, l.confidence, l.lower, l.upper],
    );
    return rows[0]!;
  });
}

/** Replaces a limit's fields; breaches already stored keep the bounds they were found with. */
export async function updateLimit(
  pool: pg.Pool,
  id: number,
  limitId: number,
  l: Omit<Limit, 'id' | 'portfolio_id'>,
): Promise<Limit | null> {
  const { rows } = await pool.query<Limit>(
    `UPDATE portfolio_limits SET name = $3, metric = $4, factor = $5, method = $6, confidence = $7, lower = $8, upper = $9,
       updated_at = now()
     WHERE id = $2 AND portfolio_id = $1 RETURNING ${COLUMNS}`,
    [id, limitId, l.name, l.metric, l.factor, l.method, l.confidence, l.lower, l.upper],
  );
  return rows[0] ?? null;
}

export async function deleteLimit(pool: pg.Pool, id: number, limitId: number): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM portfolio_limits WHERE id = $2 AND portfolio_id = $1', [
    id,
    limitId,
  ]);
  return (rowCount ?? 0) > 0;
}

export interface BreachRow {
  limit_id: number;
  name: string;
  date: string;
  value: number;
  lower: number | null;
  upper: number | null;
}

export async function listBreaches(
  pool: pg.Pool,
  id: number,
  from: string,
  to: string,
  limit: number,
  offset: number,
): Promise<{ breaches: BreachRow[]; total: number }> {
  const [rows, total] = await Promise.all([
    pool.query<BreachRow>(
      `SELECT limit_id, name, breach_date::text AS date, value, lower, upper FROM portfolio_limit_breaches
        WHERE portfolio_id = $1 AND breach_date BETWEEN $2 AND $3
        ORDER BY breach_date DESC, limit_id LIMIT $4 OFFSET $5`,
      [id, from, to, limit, offset],
    ),
    pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM portfolio_limit_breaches WHERE portfolio_id = $1 AND breach_date BETWEEN $2 AND $3',
      [id, from, to],
    ),
  ]);
  return { breaches: rows.rows, total: total.rows[0]!.n };
}

/** Per portfolio of the owner: the newest computed date and the number of breaches on it (list badges). */
export async function breachCounts(
  pool: pg.Pool,
  owner: number,
): Promise<{ portfolio_id: number; date: string | null; breaches: number }[]> {
  const { rows } = await pool.query<{ portfolio_id: number; date: string | null; breaches: number }>(
    `SELECT p.id AS portfolio_id, last.d::text AS date,
            (SELECT count(*)::int FROM portfolio_limit_breaches b WHERE b.portfolio_id = p.id AND b.breach_date = last.d) AS breaches
       FROM portfolios p
       LEFT JOIN LATERAL (SELECT max(calculation_date) AS d FROM portfolio_active_days a WHERE a.portfolio_id = p.id) last ON true
      WHERE p.owner_id = $1 ORDER BY p.id LIMIT 1000`,
    [owner],
  );
  return rows;
}

/** The numbers a limit can bound, as stored for a portfolio on a date; null when nothing is stored. */
export async function storedLimitInputs(
  pool: pg.Pool,
  id: number,
  date: string,
): Promise<LimitInputs | null> {
  const [exp, risk, active, weights] = await Promise.all([
    pool.query<{ name: string; v: number }>(
      `SELECT DISTINCT ON (e.factor_id) f.name, e.exposure_value AS v
         FROM factor_exposures e JOIN factor_definitions f ON f.id = e.factor_id
        WHERE e.portfolio_id = $1 AND e.calculation_date = $2 ORDER BY e.factor_id, (e.source = 'symbol') DESC`,
      [id, date],
    ),
    pool.query<{ total_risk: number; var: LimitInputs['var'] }>(
      'SELECT total_risk, var FROM portfolio_risk WHERE portfolio_id = $1 AND calculation_date = $2',
      [id, date],
    ),
    pool.query<{ active_exposures: Record<string, number | null>; tracking_error: number | null }>(
      'SELECT active_exposures, tracking_error FROM portfolio_active_days WHERE portfolio_id = $1 AND calculation_date = $2',
      [id, date],
    ),
    pool.query<{ w: number | null }>(
      `SELECT weight AS w FROM position_daily_values
        WHERE portfolio_id = $1 AND value_date = $2 AND pnl_method NOT IN ('expired', 'not_held')`,
      [id, date],
    ),
  ]);
  if (exp.rows.length === 0) return null;
  return {
    exposures: Object.fromEntries(exp.rows.map((r) => [r.name, r.v])),
    activeExposures: active.rows[0]?.active_exposures ?? {},
    totalRisk: risk.rows[0]?.total_risk ?? null,
    trackingError: active.rows[0]?.tracking_error ?? null,
    var: risk.rows[0]?.var ?? null,
    weights: weights.rows.map((r) => r.w),
  };
}

export interface LimitState extends Limit {
  value: number | null;
  breached: boolean;
}

/** Every limit of a portfolio with its value on a date and whether it is breached then. */
export function limitStates(limits: readonly Limit[], inputs: LimitInputs | null): LimitState[] {
  return limits.map((l) => {
    const value = inputs ? limitValue(l, inputs) : null;
    return { ...l, value, breached: value !== null && isBreached(value, l.lower, l.upper) };
  });
}

/** The newest date with stored exposures on or before `date` (or at all). */
export async function newestComputedDate(pool: pg.Pool, id: number, date?: string): Promise<string | null> {
  const { rows } = await pool.query<{ d: string | null }>(
    'SELECT max(calculation_date)::text AS d FROM factor_exposures WHERE portfolio_id = $1 AND ($2::date IS NULL OR calculation_date <= $2)',
    [id, date ?? null],
  );
  return rows[0]?.d ?? null;
}
