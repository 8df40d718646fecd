import type { ReadPath } from '../config.ts';
import type { FactorModel } from '../factors/model.ts';
import { portfolioExposure } from './exposures.ts';
import { snapshot, type PreviousDay } from './snapshot.ts';
import type { PortfolioDay } from './store.ts';
import {
  valuePosition,
  type HeldPosition,
  type MarketView,
  type OptionSettings,
  type PositionValue,
} from './valuation.ts';

/** Where a position's betas come from (the read-path setting, declared with the configuration). */
export type { ReadPath } from '../config.ts';

export interface BetaSources {
  bySymbol: Map<string | number, Float64Array>;
  byPosition: Map<string | number, Float64Array>;
}

export function betasFor(
  path: ReadPath,
  sources: BetaSources,
): (v: PositionValue) => Float64Array | undefined {
  if (path === 'symbol') return (v) => sources.bySymbol.get(v.betaSymbol);
  if (path === 'position') return (v) => sources.byPosition.get(v.positionId);
  return (v) => sources.bySymbol.get(v.betaSymbol) ?? sources.byPosition.get(v.positionId);
}

/**
 * One portfolio's day, in the seed's order: value positions and their P&L, roll the equity forward
 * into a snapshot, weight by that equity for the factor exposures (risk and stress tests: src/risk/).
 * `previous` is null on the portfolio's first day (P&L 0, equity = its equity balance).
 */
export function analysePortfolio(
  portfolioId: number,
  positions: readonly HeldPosition[],
  market: MarketView,
  previous: PreviousDay | null,
  equityBalance: number,
  betas: (v: PositionValue) => Float64Array | undefined,
  model: FactorModel,
  settings: OptionSettings,
): PortfolioDay {
  const values = positions.map((p) => valuePosition(p, market, previous === null, settings));
  const snap = snapshot(values, previous ?? { equity: equityBalance, cumulativePnl: 0 });
  const exposure = portfolioExposure(values, betas, model.factors.length, snap.equity);
  return { portfolioId, values, snapshot: snap, exposure };
}
