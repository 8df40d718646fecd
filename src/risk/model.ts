import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { TRADING_DAYS_PER_YEAR } from '../factors/engine.ts';
import { loadModel, ridgeFactors, type FactorModel } from '../factors/model.ts';
import { row, windowRange, type ReturnsPanel } from '../factors/panel.ts';
import { loadPanel } from '../factors/store.ts';
import { tradingDayOnOrBefore } from '../market/closes.ts';
import { halfLifeWeights, weightedCovariance } from '../math/covariance.ts';
import { loadRiskModel, saveRiskModel } from './store.ts';
import type { RiskModel } from './types.ts';

export type { RiskModel } from './types.ts';

export const DEFAULT_HALF_LIFE = 63;

/** The market proxy (SPY): the `ols_market` factor's, else the calendar symbol. */
export const marketProxy = (m: FactorModel): string =>
  m.factors.find((f) => f.method === 'ols_market')?.longProxy ?? m.settings.calendarSymbol;

/** The seven proxies of the stress tests: the market proxy, then the ridge factors' proxies. */
export function stressProxies(m: FactorModel): string[] {
  return [...new Set([marketProxy(m), ...ridgeFactors(m).map((f) => f.longProxy)])];
}

/**
 * `252 × Σ_t w_t (f_t − μ)(f_t − μ)ᵀ / Σ_t w_t` over the days of [from, to) on which every series has
 * a return, with half-life weights counted in sample days (the newest weighs 1). Null when fewer
 * than two such days exist.
 */
export function annualisedCovariance(
  series: readonly Float64Array[],
  from: number,
  to: number,
  halfLife: number,
): { covariance: Float64Array; observations: number } | null {
  const k = series.length;
  const days: number[] = [];
  for (let t = from; t < to; t++) if (series.every((s) => !Number.isNaN(s[t]!))) days.push(t);
  const n = days.length;
  if (n < 2) return null;
  const x = new Float64Array(n * k);
  days.forEach((t, i) => series.forEach((s, j) => (x[i * k + j] = s[t]!)));
  const c = weightedCovariance(x, n, k, halfLifeWeights(n, halfLife));
  for (let i = 0; i < c.length; i++) c[i]! *= TRADING_DAYS_PER_YEAR;
  return { covariance: c, observations: n };
}

/** The risk model of `panel.dates[end]`; null when a proxy is missing or has under two returns. */
export function computeRiskModel(
  panel: ReturnsPanel,
  model: FactorModel,
  end: number,
  halfLife: number,
): RiskModel | null {
  const factors = ridgeFactors(model);
  if (factors.length === 0) return null;
  const windowDays = factors[0]!.windowDays;
  const index = new Map(panel.symbols.map((s, i) => [s, i]));
  const proxies = stressProxies(model);
  const rows = proxies.map((p) => index.get(p));
  if (rows.some((r) => r === undefined)) return null;
  const series = rows.map((r) => row(panel, r!));
  const [from, to] = windowRange(panel, end, windowDays);
  const factorSeries = factors.map((f) => series[proxies.indexOf(f.longProxy)]!);
  const f = annualisedCovariance(factorSeries, from, to, halfLife);
  const p = annualisedCovariance(series, from, to, halfLife);
  if (!f || !p) return null;
  return {
    date: panel.dates[end]!,
    halfLife,
    windowDays,
    factors: factors.map((x) => x.name),
    factorProxies: factors.map((x) => x.longProxy),
    covariance: f.covariance,
    observations: f.observations,
    proxies,
    proxyCovariance: p.covariance,
    proxyObservations: p.observations,
  };
}

export interface RiskModelRunResult {
  requestedDate: string;
  date: string;
  /** Null when the model could not be formed (a proxy missing); `reason` says why. */
  observations: number | null;
  reason?: string;
  timings: { loadMs: number; computeMs: number; writeMs: number };
}

/**
 * The risk-model stage of one date: the factor and proxy covariances, stored in `risk_models`
 * (the specific volatilities are written by the factor stage, from the same ridge pass).
 * Idempotent: an existing row is kept unless `force`.
 */
export async function runRiskModel(
  db: Kysely<Database>,
  pool: pg.Pool,
  o: { date: string; halfLife?: number; force?: boolean; panel?: ReturnsPanel },
): Promise<RiskModelRunResult> {
  const halfLife = o.halfLife ?? DEFAULT_HALF_LIFE;
  const model = await loadModel(db);
  const date = await tradingDayOnOrBefore(pool, model.settings.calendarSymbol, o.date);
  if (!date) throw new Error(`no trading day on or before ${o.date}`);
  const timings = { loadMs: 0, computeMs: 0, writeMs: 0 };
  const windowDays = ridgeFactors(model)[0]?.windowDays ?? 365;
  if (!o.force) {
    const existing = await loadRiskModel(pool, date, halfLife, true);
    if (existing && existing.date === date && existing.windowDays === windowDays)
      return { requestedDate: o.date, date, observations: existing.observations, timings };
  }
  let t0 = performance.now();
  const proxies = stressProxies(model);
  const panel =
    o.panel && o.panel.dates.includes(date)
      ? o.panel
      : await loadPanel(pool, model, date, date, windowDays, proxies);
  timings.loadMs = performance.now() - t0;
  t0 = performance.now();
  const rm = computeRiskModel(panel, model, panel.dates.indexOf(date), halfLife);
  timings.computeMs = performance.now() - t0;
  if (!rm)
    return {
      requestedDate: o.date,
      date,
      observations: null,
      reason: `the proxies ${proxies.join(', ')} need at least two common returns in the window`,
      timings,
    };
  t0 = performance.now();
  await withTransaction(pool, (client) => saveRiskModel(client, rm));
  timings.writeMs = performance.now() - t0;
  return { requestedDate: o.date, date, observations: rm.observations, timings };
}
