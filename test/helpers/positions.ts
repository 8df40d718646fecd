import assert from 'node:assert/strict';
import type { Position } from '../../src/portfolios/position.ts';
import type { HeldPosition, MarketView, Quote } from '../../src/portfolios/valuation.ts';

let nextId = 1;

/** A position with the defaults of a CSV row that gives only symbol, type and quantity. */
export function position(
  p: Partial<Position> & Pick<Position, 'symbol' | 'positionType' | 'quantity'>,
): HeldPosition {
  const option = !['LONG', 'SHORT'].includes(p.positionType);
  return {
    id: nextId++,
    entryPrice: null,
    entryDate: null,
    exitDate: null,
    underlyingSymbol: null,
    strikePrice: null,
    expirationDate: null,
    multiplier: option ? 100 : 1,
    impliedVolatility: null,
    ...p,
  };
}

/** A market on `date` with its previous trading day, quotes and the realised vols of both days. */
export function marketOn(
  date: string,
  prevDate: string,
  quotes: Record<string, Quote>,
  vols: { today?: Record<string, number>; prev?: Record<string, number> } = {},
): MarketView {
  return {
    date,
    prevDate,
    quote: (s) => quotes[s] ?? {},
    realizedVol: (s) => vols.today?.[s],
    prevRealizedVol: (s) => vols.prev?.[s],
  };
}

export const near = (a: number | null | undefined, b: number, tol = 1e-12): void =>
  assert.ok(
    a !== null && a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
    `${a} vs ${b}`,
  );
