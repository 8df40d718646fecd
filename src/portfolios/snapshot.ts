import type { PositionValue } from './valuation.ts';

/**
 * A portfolio's day (METHODOLOGY.md 8): daily P&L = Σ position P&L (positions without a price are
 * listed, not counted as 0), equity_D = equity_prev + daily P&L (no capital flows are recorded),
 * daily return = daily P&L / equity_prev.
 *
 * Exposures are delta-adjusted: long = Σ positive exposures, short = Σ |negative exposures|,
 * gross = long + short, net = long − short; portfolio delta = net / equity (net dollar delta as a
 * share of equity). Cash = equity − Σ market values.
 */
export interface Snapshot {
  equity: number;
  totalValue: number;
  cash: number;
  longExposure: number;
  shortExposure: number;
  grossExposure: number;
  netExposure: number;
  dailyPnl: number;
  dailyReturn: number;
  cumulativePnl: number;
  portfolioDelta: number;
  positionsCount: number;
  missingPrices: { position_id: number; symbol: string }[];
}

export interface PreviousDay {
  equity: number;
  cumulativePnl: number;
}

export function snapshot(values: readonly PositionValue[], previous: PreviousDay): Snapshot {
  let pnl = 0;
  let totalValue = 0;
  let long = 0;
  let short = 0;
  const missingPrices: Snapshot['missingPrices'] = [];
  for (const v of values) {
    if (v.pnl === null) missingPrices.push({ position_id: v.positionId, symbol: v.symbol });
    else pnl += v.pnl;
    if (v.marketValue !== null) totalValue += v.marketValue;
    if (v.exposure !== null) {
      if (v.exposure > 0) long += v.exposure;
      else short -= v.exposure;
    }
  }
  const equity = previous.equity + pnl;
  return {
    equity,
    totalValue,
    cash: equity - totalValue,
    longExposure: long,
    shortExposure: short,
    grossExposure: long + short,
    netExposure: long - short,
    dailyPnl: pnl,
    dailyReturn: pnl / previous.equity,
    cumulativePnl: previous.cumulativePnl + pnl,
    portfolioDelta: (long - short) / equity,
    positionsCount: values.filter((v) => !v.expired).length,
    missingPrices,
  };
}
