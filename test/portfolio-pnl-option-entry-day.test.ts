import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Position } from '../src/portfolios/position.ts';
import { valuePosition } from '../src/portfolios/valuation.ts';
import { marketOn, near, position } from './helpers/positions.ts';

/**
 * METHODOLOGY.md §9, the entry day (D = entry_date): quantity × multiplier × (C_D − entry_price)
 * when the entry price is known, else 0; an option priced by the delta approximation books 0. No
 * move from before the entry is ever booked.
 */
const D = '2025-06-02';
const PREV = '2025-05-30';
const settings = { riskFreeRate: 0.05, fallbackVol: 0.25 };
const market = marketOn(D, PREV, {
  // the underlying moved 49 → 50 between prev and D; the option's own closes 2.10 → 2.60
  OPT: { prevClose: 49, close: 50 },
  OPT251017C00050000: { prevClose: 2.1, close: 2.6 },
  AAA: { prevClose: 48, close: 50 },
});
const option = (over: Partial<Position>) =>
  position({
    symbol: 'OPT251017C00050000',
    positionType: 'LC',
    quantity: 3,
    underlyingSymbol: 'OPT',
    strikePrice: 50,
    expirationDate: '2025-10-17',
    impliedVolatility: 0.2,
    entryDate: D,
    ...over,
  });

describe('portfolio P&L: an option on its entry day', () => {
  it('with its own closes and an entry price of 2.40: 3 × 100 × (2.60 − 2.40) = 60, not the 150 of the prev → D move', () => {
    const v = valuePosition(option({ entryPrice: 2.4 }), market, false, settings);
    near(v.pnl, 60, 1e-12); // 300 × 0.20 (the prev → D move would be 300 × 0.50 = 150)
    assert.equal(v.pnlMethod, 'option_close');
  });

  it('with its own closes and no entry price: 0', () => {
    const v = valuePosition(option({}), market, false, settings);
    assert.deepEqual([v.pnl, v.pnlMethod], [0, 'entry_day']);
  });

  it('priced by the delta approximation (no closes of its own): 0, even with an entry price', () => {
    const v = valuePosition(
      option({ symbol: 'OPT251017C00050000X', entryPrice: 2.4 }),
      market,
      false,
      settings,
    );
    // today: delta_prev × 300 × (50 − 49) ≈ 0.52 × 300 = 156 of a move before the option existed
    assert.deepEqual([v.pnl, v.pnlMethod], [0, 'entry_day']);
  });

  it('it is held at the close of its entry day: its delta exposure and Greeks count', () => {
    const v = valuePosition(option({ entryPrice: 2.4 }), market, false, settings);
    assert.equal(v.expired, false);
    assert.ok(v.option !== null && v.option.delta > 0.5 && v.option.delta < 0.6);
    near(v.exposure, v.option.delta * 300 * 50);
  });

  it('the day after its entry it books the ordinary move: 3 × 100 × (2.60 − 2.10) = 150', () => {
    const v = valuePosition(option({ entryDate: PREV, entryPrice: 2.0 }), market, false, settings);
    near(v.pnl, 150);
  });

  it('an entry on a non-trading day between prev and D (Saturday 05-31) is an entry on D', () => {
    const v = valuePosition(option({ entryDate: '2025-05-31', entryPrice: 2.5 }), market, false, settings);
    near(v.pnl, 30); // 300 × (2.60 − 2.50)
  });
});

describe('portfolio P&L: a stock on its entry day', () => {
  it('entered at 49.50: 10 × (50 − 49.50) = 5, not 10 × (50 − 48) = 20', () => {
    const v = valuePosition(
      position({ symbol: 'AAA', positionType: 'LONG', quantity: 10, entryDate: D, entryPrice: 49.5 }),
      market,
      false,
      settings,
    );
    assert.deepEqual([v.pnl, v.pnlMethod], [5, 'price']);
  });

  it('without an entry price: 0', () => {
    const v = valuePosition(
      position({ symbol: 'AAA', positionType: 'LONG', quantity: 10, entryDate: D }),
      market,
      false,
      settings,
    );
    assert.deepEqual([v.pnl, v.pnlMethod], [0, 'entry_day']);
  });
});
