import type { Kysely } from 'kysely';
import type { Database, FactorMethod, QualityFlag } from '../db/schema.ts';

/**
 * The factor model as data: which factors exist, their proxies, windows and minimum observations
 * come from `factor_definitions`; the numeric settings below from configuration. Adding a proxy or a
 * spread is a row in that table, not new code.
 */
export interface FactorDef {
  id: number;
  name: string;
  method: FactorMethod;
  longProxy: string;
  shortProxy: string | null;
  windowDays: number;
  minObservations: number;
  /** Its column in symbol_daily_metrics. */
  metricColumn: string;
}

export interface ModelSettings {
  ridgeAlpha: number;
  /** Betas are clipped to [-betaCap, betaCap]. */
  betaCap: number;
  /** A sample with at least this share of the window's trading days is `full_history`. */
  fullHistoryRatio: number;
  /** Trading days are the dates on which this symbol has a close. */
  calendarSymbol: string;
}

export const DEFAULT_SETTINGS: ModelSettings = {
  ridgeAlpha: 1.0,
  betaCap: 5,
  fullHistoryRatio: 0.9,
  calendarSymbol: 'SPY',
};

export interface FactorModel {
  settings: ModelSettings;
  /** In display order; the ridge factors are fitted jointly, one regressor per factor. */
  factors: FactorDef[];
}

export const ridgeFactors = (m: FactorModel) => m.factors.filter((f) => f.method === 'ridge_regression');

/** Calendar days of history the longest window needs: what a load for one date reaches back. */
export const lookbackDays = (m: FactorModel): number => Math.max(...m.factors.map((f) => f.windowDays));

/** The window of realised volatility (the option fallback): the ridge window, or a year without one. */
/** The largest factor id: stored per-factor arrays are this long, subscripted by id (migration 0010). */
export const modelWidth = (m: FactorModel): number => Math.max(0, ...m.factors.map((f) => f.id));

export const volatilityWindowDays = (m: FactorModel): number => ridgeFactors(m)[0]?.windowDays ?? 365;

/** Every symbol the model regresses on (plus the calendar symbol). */
export function proxySymbols(m: FactorModel): string[] {
  const s = new Set<string>([m.settings.calendarSymbol]);
  for (const f of m.factors) {
    s.add(f.longProxy);
    if (f.shortProxy) s.add(f.shortProxy);
  }
  return [...s];
}

export function validateModel(m: FactorModel): void {
  const ridge = ridgeFactors(m);
  const w = new Set(ridge.map((f) => `${f.windowDays}/${f.minObservations}`));
  if (w.size > 1)
    throw new Error('the ridge factors are fitted jointly and must share one window and minimum');
  if (!(m.settings.ridgeAlpha >= 0)) throw new Error(`ridgeAlpha must be >= 0, got ${m.settings.ridgeAlpha}`);
  if (!(m.settings.betaCap > 0)) throw new Error(`betaCap must be > 0, got ${m.settings.betaCap}`);
}

export async function loadModel(
  db: Kysely<Database>,
  settings: Partial<ModelSettings> = {},
): Promise<FactorModel> {
  const rows = await db
    .selectFrom('factor_definitions')
    .selectAll()
    .where('is_active', '=', true)
    .orderBy('display_order')
    .execute();
  const model: FactorModel = {
    settings: { ...DEFAULT_SETTINGS, ...settings },
    factors: rows.map((r) => ({
      id: r.id,
      name: r.name,
      method: r.method,
      longProxy: r.long_proxy,
      shortProxy: r.short_proxy,
      windowDays: r.window_days,
      minObservations: r.min_observations,
      metricColumn: r.metric_column,
    })),
  };
  validateModel(model);
  return model;
}

/**
 * Clips to the cap and names the quality of the estimate.
 * Example (cap 5, 252 window days, ratio 0.9): beta 6.1 → 5, `capped`; beta 0.8 from 200 days → `limited_history`.
 */
export function capAndFlag(
  beta: number,
  observations: number,
  windowDays: number,
  s: ModelSettings,
): { beta: number; flag: QualityFlag } {
  if (beta > s.betaCap) return { beta: s.betaCap, flag: 'capped' };
  if (beta < -s.betaCap) return { beta: -s.betaCap, flag: 'capped' };
  return { beta, flag: observations >= s.fullHistoryRatio * windowDays ? 'full_history' : 'limited_history' };
}
