import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Position } from '../src/portfolios/position.ts';
import { valuePosition } from '../src/portfolios/valuation.ts';
import { snapshot } from '../src/portfolios/snapshot.ts';
import { portfolioExposure } from '../src/portfolios/exposures.ts';
import { bsDelta } from '../src/math/black-scholes.ts';
import { marketOn, near, position } from './helpers/positions.ts';

/**
 * METHODOLOGY.md §9: the exit day (D = exit_date, closed at D's close) and an option's expiration
 * day book their last move by the §8 rules; after the exit or the expiration, nothing. Neither is
 * held at the close of that day.
 */
const PREV = '2025-05-30'; // Friday
const D = '2025-06-02'; // Monday
const settings = { riskFreeRate: 0.05, fallbackVol: 0.25 };
const market = marketOn(D, PREV, {
  AAA: { prevClose: 48, close: 50 },
  OPT: { prevClose: 49, close: 50 },
});
const put = (over: Partial<Position>) =>
  position({
    symbol: 'OPT250602P00050000',
    positionType: 'LP',
    quantity: 4,
    underlyingSymbol: 'OPT',
    strikePrice: 50,
    expirationDate: D,
    impliedVolatility: 0.3,
    ...over,
  });

describe('portfolio P&L: the exit day', () => {
  const sold = position({ symbol: 'AAA', positionType: 'LONG', quantity: 10, exitDate: D });
  const v = valuePosition(sold, market, false, settings);

  it('a stock sold at the close of D books its last move: 10 × (50 − 48) = 20', () => {
    assert.deepEqual([v.pnl, v.pnlMethod], [20, 'price']);
  });

  it('and is not held at that close: no market value, no exposure, not counted', () => {
    assert.deepEqual([v.expired, v.marketValue, v.exposure], [true, 0, 0]);
    const s = snapshot([v], { equity: 1000, cumulativePnl: 0 });
    assert.deepEqual(
      [s.dailyPnl, s.equity, s.totalValue, s.grossExposure, s.positionsCount],
      [20, 1020, 0, 0, 0],
    );
    const e = portfolioExposure([v], () => Float64Array.of(1.2), 1, s.equity);
    assert.deepEqual([e.exposure[0], e.missing[0]], [0, []]);
  });

  it('after its exit it books nothing (exited on the Friday before D)', () => {
    const gone = valuePosition({ ...sold, exitDate: PREV }, market, false, settings);
    assert.deepEqual([gone.pnl, gone.expired], [0, true]);
  });
});

describe('portfolio P&L: an option on its expiration day', () => {
  const v = valuePosition(put({}), market, false, settings);

  it('books its last move with delta_prev from prev: T = 3/365, S_prev 49, strike 50, vol 30%', () => {
    // d1 = (ln(49/50) + (0.05 + 0.045) × 3/365) / (0.3 × sqrt(3/365))
    //    = (−0.020203 + 0.000781) / (0.3 × 0.090659) = −0.019422 / 0.027198 = −0.71410
    // put delta = N(−0.71410) − 1 = 0.23759 − 1 = −0.76241 (N from the normal table: N(−0.71) = 0.23885,
    // N(−0.72) = 0.23576, interpolated at −0.7141: 0.23759)
    // P&L = −0.76241 × 4 × 100 × (50 − 49) = −304.96
    assert.equal(v.pnlMethod, 'delta_approximation');
    near(v.pnl, -304.96, 2e-4);
    near(v.pnl, bsDelta({ call: false, spot: 49, strike: 50, years: 3 / 365, rate: 0.05, vol: 0.3 }) * 400);
  });

  it('is not held at that close: no delta exposure, no Greeks', () => {
    assert.deepEqual([v.expired, v.exposure, v.marketValue, v.option], [true, 0, 0, null]);
  });

  it('after its expiration it books nothing (expired on the Friday before D)', () => {
    const old = valuePosition(put({ expirationDate: PREV }), market, false, settings);
    assert.deepEqual([old.pnl, old.pnlMethod, old.expired], [0, 'expired', true]);
  });

  it('an expiration on a non-trading day between prev and D (Saturday) books nothing on D', () => {
    const sat = valuePosition(put({ expirationDate: '2025-05-31' }), market, false, settings);
    assert.deepEqual([sat.pnl, sat.pnlMethod], [0, 'expired']);
  });
});
