import type pg from 'pg';
import type { FactorModel } from '../factors/model.ts';
import type { PositionValue } from '../portfolios/valuation.ts';
import { attributeDay } from './attribution.ts';
import { factorHedge, hedgeOperator, marketHedge, type HedgeOperator } from './hedges.ts';
import { loadDayPanel, type DayPanel } from './day-panel.ts';
import { DEFAULT_HALF_LIFE, marketProxy, runRiskModel } from './model.ts';
import { portfolioRisk, riskDollars, type PortfolioRisk, type RiskLookup } from './portfolio.ts';
import { loadScenarios, type Scenario } from './scenarios.ts';
import { loadExposuresOn, type ReturnHistory } from './store.ts';
import { resolveHistorical, resolveShock, stressPnl, symbolReturn, type ResolvedScenario } from './stress.ts';
import type { AttributionDay, RiskDay, RiskModel, RiskReport, StressRow } from './types.ts';
import { historicalVar, hypotheticalPnl, parametricVar } from './var.ts';

export type { AttributionDay, HedgeReport, RiskDay, RiskReport, StressRow, VarReport } from './types.ts';

/**
 * A portfolio's risk report of one date (METHODOLOGY.md 10–13): load once for a whole run (risk
 * model, ridge betas, specific volatilities, a year of returns, scenario windows, yesterday's
 * exposures), then compute each portfolio from its valued positions. The shapes are the API's.
 */

export { HISTORICAL_DAYS } from './day-panel.ts';

export interface RiskSettings {
  halfLife: number;
  benchmark: string;
  scenarios?: Scenario[];
}

export const DEFAULT_RISK_SETTINGS: RiskSettings = { halfLife: DEFAULT_HALF_LIFE, benchmark: 'SPY' };

/** The risk settings of a configuration: half-life, benchmark, and the scenarios file if one is named. */
export function riskSettings(c: {
  riskHalfLife: number;
  benchmark: string;
  scenariosPath: string | undefined;
}): RiskSettings {
  return {
    halfLife: c.riskHalfLife,
    benchmark: c.benchmark,
    ...(c.scenariosPath ? { scenarios: loadScenarios(c.scenariosPath) } : {}),
  };
}

export interface RiskContext {
  date: string;
  riskModel: RiskModel;
  settings: RiskSettings;
  lookup: RiskLookup;
  market: string;
  /** The factor hedge over the seven proxies that have betas, formed once for the run. */
  hedge: HedgeOperator;
  history: ReturnHistory;
  scenarios: { resolved: ResolvedScenario; moves: Map<string, number | undefined> }[];
  /** The factors' returns on D (attribution). */
  factorReturns: Float64Array;
  /** Exposures and equity of the previous trading day, per portfolio (attribution). */
  previous: Map<number, { exposure: Map<string, number>; equity: number }>;
}

/**
 * The symbol-source exposures and equity of portfolios on `date`, computed by the caller and not yet
 * stored (the portfolio stage writes a whole block at once): what `loadExposuresOn` would read.
 */
export interface CarriedExposures {
  date: string;
  byPortfolio: RiskContext['previous'];
}

/**
 * Everything the risk reports of `date` need: the day's panel (risk model, betas and specific vols
 * of every symbol held plus the proxies, `HISTORICAL_DAYS` returns of the same, the scenario
 * windows' closes), read here in bulk or given (a panel held in memory), and the exposures of the
 * previous trading day, read or `carried` when they are of that day. Null when no risk model can be formed.
 */
export async function loadRiskContext(
  db: Parameters<typeof runRiskModel>[0],
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  betaSymbols: readonly string[],
  portfolioIds: readonly number[],
  settings: RiskSettings = DEFAULT_RISK_SETTINGS,
  held?: DayPanel | null,
  carried?: CarriedExposures,
): Promise<RiskContext | null> {
  const panel = held !== undefined ? held : await loadDayPanel(db, pool, model, date, settings, betaSymbols);
  if (!panel) return null;
  const h = panel.history;
  const prevDate = h.dates.length > 1 ? h.dates[h.dates.length - 2]! : undefined;
  let previous: RiskContext['previous'] = new Map();
  if (prevDate && portfolioIds.length > 0) {
    if (carried?.date === prevDate)
      for (const id of portfolioIds) {
        const e = carried.byPortfolio.get(id);
        if (e) previous.set(id, e);
      }
    else previous = await loadExposuresOn(pool, prevDate, portfolioIds);
  }
  return riskContextOf(model, panel, betaSymbols, previous);
}

/** The risk context of the symbols `betaSymbols` over a day's panel (pure). */
export function riskContextOf(
  model: FactorModel,
  panel: DayPanel,
  betaSymbols: readonly string[],
  previous: RiskContext['previous'],
): RiskContext {
  const { riskModel, history, betas, specific, closes, settings } = panel;
  const market = marketProxy(model);
  const lookup: RiskLookup = {
    factors: riskModel.factors,
    covariance: riskModel.covariance,
    betas: (s) => betas.get(s),
    specificVol: (s) => specific.get(s),
  };
  const last = history.dates.length - 1;
  const factorReturns = Float64Array.from(riskModel.factorProxies, (p) =>
    last >= 0 && history.dates[last] === panel.date ? (history.bySymbol.get(p)?.[last] ?? NaN) : NaN,
  );
  const resolved = panel.scenarios.map((s) =>
    s.kind === 'shock'
      ? resolveShock(s, riskModel)
      : resolveHistorical(s, riskModel, betaSymbols, (sym, d) => closes.get(`${sym} ${d}`)),
  );
  return {
    date: panel.date,
    riskModel,
    settings,
    lookup,
    market,
    hedge: hedgeOperator(
      riskModel.covariance,
      riskModel.proxies.flatMap((p) => {
        const b = betas.get(p);
        return b && !b.some(Number.isNaN) ? [{ symbol: p, betas: b }] : [];
      }),
      riskModel.factors.length,
    ),
    history,
    scenarios: resolved.map((r) => ({
      resolved: r,
      // each symbol's scenario return, worked out once for all portfolios
      moves: new Map(
        r.status === 'applied' ? betaSymbols.map((s) => [s, symbolReturn(r, s, betas.get(s))]) : [],
      ),
    })),
    factorReturns,
    previous,
  };
}

/** Positions of a portfolio as the risk reports need them. */
export interface RiskHolding {
  value: PositionValue;
  /** quantity × multiplier. */
  size: number;
}

/** One portfolio's report from its valued positions of D. `dailyPnl` null for a what-if book. */
export function computeRiskDay(
  ctx: RiskContext,
  portfolioId: number,
  holdings: readonly RiskHolding[],
  equity: number,
  dailyPnl: number | null,
): RiskDay {
  const held = holdings.filter((h) => !h.value.expired);
  const weight = (v: PositionValue) => (v.exposure === null ? null : v.exposure / equity);
  const r = portfolioRisk(
    held.map((h) => ({
      positionId: h.value.positionId,
      symbol: h.value.betaSymbol,
      weight: weight(h.value),
    })),
    equity,
    ctx.lookup,
    ctx.settings.benchmark,
  );

  // historical VaR: every priced position at today's weight, summed per symbol
  const weights = new Map<string, number>();
  for (const h of held) {
    const w = weight(h.value);
    if (w !== null) weights.set(h.value.betaSymbol, (weights.get(h.value.betaSymbol) ?? 0) + w);
  }
  const days = ctx.history.dates.length;
  const pnl = hypotheticalPnl(weights, equity, days, (s) => ctx.history.bySymbol.get(s));

  const stressPositions = held.map((h) => ({
    symbol: h.value.betaSymbol,
    exposure: h.value.exposure,
    dollarGamma:
      h.value.option && h.value.price !== null ? h.size * h.value.option.gamma * h.value.price ** 2 : 0,
  }));
  const stress: StressRow[] = ctx.scenarios.map(({ resolved, moves }) => {
    if (resolved.status !== 'applied')
      return {
        scenario: resolved.name,
        kind: resolved.kind,
        pnl: null,
        pnl_percent: null,
        status: resolved.status,
        reason: resolved.reason!,
        shocks: resolved.shocks,
      };
    const { pnl } = stressPnl(stressPositions, (s) => moves.get(s));
    return {
      scenario: resolved.name,
      kind: resolved.kind,
      pnl,
      pnl_percent: pnl / equity,
      status: 'applied',
      shocks: resolved.shocks,
    };
  });

  const hedge = factorHedge(r.exposure, ctx.lookup.covariance, ctx.hedge, equity);
  const mb = ctx.lookup.betas(ctx.market);
  const ms = ctx.lookup.specificVol(ctx.market);
  const market =
    mb && ms !== undefined && !mb.some(Number.isNaN)
      ? marketHedge(
          r.exposure,
          ctx.lookup.covariance,
          { symbol: ctx.market, betas: mb, specificVol: ms, weight: r.symbolWeights.get(ctx.market) ?? 0 },
          equity,
        )
      : null;

  let attribution: AttributionDay | null = null;
  if (dailyPnl !== null) {
    const prev = ctx.previous.get(portfolioId);
    const xPrev = prev ? ctx.riskModel.factors.map((f) => prev.exposure.get(f) ?? NaN) : null;
    const a = attributeDay(ctx.riskModel.factors, xPrev, prev?.equity ?? 0, ctx.factorReturns, dailyPnl);
    attribution = { daily_pnl: dailyPnl, factor_pnl: a.factorPnl, specific_pnl: a.specificPnl };
  }

  return {
    portfolioId,
    risk: riskReport(ctx, r),
    var: { parametric: parametricVar(r.totalRisk, equity), historical: historicalVar(pnl) },
    hedges: {
      factor_risk_before: hedge.factorRiskBefore,
      factor_risk_after: hedge.factorRiskAfter,
      factor_risk_before_dollars: hedge.factorRiskBefore * equity,
      factor_risk_after_dollars: hedge.factorRiskAfter * equity,
      etfs: hedge.etfs,
      market_hedge: market,
    },
    stress,
    attribution,
  };
}

function riskReport(ctx: RiskContext, r: PortfolioRisk): RiskReport {
  const figures = {
    equity: r.equity,
    total_risk: r.totalRisk,
    factor_risk: r.factorRisk,
    specific_risk: r.specificRisk,
    tracking_error: r.trackingError,
  };
  return {
    date: ctx.date,
    risk_model_date: ctx.riskModel.date,
    ...figures,
    ...riskDollars(figures),
    benchmark: ctx.settings.benchmark,
    factors: r.factors,
    symbols: r.symbols.map((s) => ({
      symbol: s.symbol,
      weight: s.weight,
      specific_vol: s.specificVol,
      contribution: s.contribution,
      percent: s.percent,
    })),
    positions: r.positions.map((p) => ({
      position_id: p.positionId,
      symbol: p.symbol,
      weight: p.weight,
      contribution: p.contribution,
      percent: p.percent,
    })),
    missing: r.missing.map((m) => ({ position_id: m.positionId, symbol: m.symbol, reason: m.reason })),
  };
}

/**
 * The reports of a run's portfolio days (the portfolio stage): `sizes` gives quantity × multiplier
 * by position id; a day's P&L is attributed from its snapshot.
 */
export function riskDays(
  ctx: RiskContext,
  days: readonly {
    portfolioId: number;
    values: PositionValue[];
    snapshot: { equity: number; dailyPnl: number };
  }[],
  sizes: ReadonlyMap<number, number>,
  withAttribution: boolean,
): RiskDay[] {
  return days.map((d) =>
    computeRiskDay(
      ctx,
      d.portfolioId,
      d.values.map((value) => ({ value, size: sizes.get(value.positionId) ?? 0 })),
      d.snapshot.equity,
      withAttribution ? d.snapshot.dailyPnl : null,
    ),
  );
}
