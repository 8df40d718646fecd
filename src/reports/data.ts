import type pg from 'pg';
import { loadLimitsOf } from '../portfolios/benchmark-store.ts';
import {
  limitStates,
  listBreaches,
  newestComputedDate,
  readBenchmark,
  storedLimitInputs,
  type BreachRow,
  type LimitState,
} from '../portfolios/limits-repo.ts';
import type { RiskDay } from '../risk/report.ts';
import { loadStoredRiskDay } from '../risk/store.ts';

/**
 * What a portfolio's reports show on a date, all from the store (the figures the API serves): the
 * positions, exposures (absolute and active), risk and its contributions, VaR, stress tests,
 * attribution, limits with their state, and the breaches of the 30 days to the date.
 */
export interface ReportData {
  portfolio: { id: number; name: string; currency: string };
  date: string;
  benchmark: string;
  equity: number;
  dailyPnl: number | null;
  dailyReturn: number | null;
  positions: {
    symbol: string;
    position_type: string;
    quantity: number;
    price: number | null;
    market_value: number | null;
    weight: number | null;
    pnl: number | null;
  }[];
  exposures: { factor: string; exposure: number; active: number | null }[];
  trackingError: number | null;
  activeReturn: number | null;
  risk: RiskDay | null;
  limits: LimitState[];
  breaches: BreachRow[];
}

/** Rows of each list in a report (the reports are bounded like every list). */
export const REPORT_MAX_ROWS = 2000;

export async function loadReportData(
  pool: pg.Pool,
  id: number,
  requestedDate: string | undefined,
  defaultBenchmark: string,
): Promise<ReportData | null> {
  const date = await newestComputedDate(pool, id, requestedDate);
  if (!date) return null;
  const from = new Date(Date.parse(`${date}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10);
  const [portfolio, snap, positions, exposures, active, risk, limits, inputs, breaches, benchmark] =
    await Promise.all([
      pool.query<ReportData['portfolio']>('SELECT id, name, currency FROM portfolios WHERE id = $1', [id]),
      pool.query<{ equity: number; daily_pnl: number | null; daily_return: number | null }>(
        'SELECT equity, daily_pnl, daily_return FROM portfolio_snapshots WHERE portfolio_id = $1 AND snapshot_date = $2',
        [id, date],
      ),
      pool.query<ReportData['positions'][number]>(
        `SELECT p.symbol, p.position_type, p.quantity, v.price, v.market_value, v.weight, v.pnl
         FROM position_daily_values v JOIN positions p ON p.id = v.position_id
        WHERE v.portfolio_id = $1 AND v.value_date = $2 AND v.pnl_method NOT IN ('expired', 'not_held')
        ORDER BY abs(v.market_value) DESC NULLS LAST, p.symbol LIMIT ${REPORT_MAX_ROWS}`,
        [id, date],
      ),
      pool.query<{ factor: string; exposure: number }>(
        `SELECT DISTINCT ON (f.id) f.name AS factor, e.exposure_value AS exposure
         FROM factor_exposures e JOIN factor_definitions f ON f.id = e.factor_id
        WHERE e.portfolio_id = $1 AND e.calculation_date = $2 ORDER BY f.id, (e.source = 'symbol') DESC`,
        [id, date],
      ),
      pool.query<{
        active_exposures: Record<string, number | null>;
        tracking_error: number | null;
        active_return: number | null;
      }>(
        'SELECT active_exposures, tracking_error, active_return FROM portfolio_active_days WHERE portfolio_id = $1 AND calculation_date = $2',
        [id, date],
      ),
      loadStoredRiskDay(pool, id, date),
      loadLimitsOf(pool, [id]),
      storedLimitInputs(pool, id, date),
      listBreaches(pool, id, from, date, REPORT_MAX_ROWS, 0),
      readBenchmark(pool, id),
    ]);
  const p = portfolio.rows[0];
  if (!p) return null;
  const a = active.rows[0];
  // a benchmark portfolio by its name (an id means nothing to the report's reader)
  const benchmarkName =
    benchmark && !('symbol' in benchmark)
      ? ((
          await pool.query<{ name: string }>('SELECT name FROM portfolios WHERE id = $1', [
            benchmark.portfolio_id,
          ])
        ).rows[0]?.name ?? String(benchmark.portfolio_id))
      : null;
  return {
    portfolio: p,
    date,
    benchmark: benchmark
      ? 'symbol' in benchmark
        ? benchmark.symbol
        : `portfolio ${benchmarkName}`
      : defaultBenchmark,
    equity: snap.rows[0]?.equity ?? 0,
    dailyPnl: snap.rows[0]?.daily_pnl ?? null,
    dailyReturn: snap.rows[0]?.daily_return ?? null,
    positions: positions.rows,
    exposures: exposures.rows.map((e) => ({ ...e, active: a?.active_exposures[e.factor] ?? null })),
    trackingError: a?.tracking_error ?? null,
    activeReturn: a?.active_return ?? null,
    risk: risk && risk.risk.date === date ? risk : null,
    limits: limitStates(limits.get(id) ?? [], inputs),
    breaches: breaches.breaches,
  };
}
