import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { valuePosition } from '../src/portfolios/valuation.ts';
import { marketOn, near, position } from './helpers/positions.ts';

/**
 * METHODOLOGY.md §8: an option without its own closes books delta_prev × quantity × multiplier ×
 * (S_D − S_prev), delta_prev being the §7 delta as of prev: spot S_prev, T = (expiration − prev)/365
 * and the realised volatility of the window ending on prev, not D's.
 */
describe('portfolio P&L: an option priced by the delta approximation uses the delta as of prev', () => {
  // prev = Friday 2025-05-30, D = Monday 2025-06-02, expiration 2025-10-17: 140 days after prev
  // (Hull's 20 weeks). Underlying OPT: S_prev = 49, S_D = 50. Strike 50, r = 5%. No implied vol:
  // the realised vol is 20% over the window ending on prev and 35% over the one ending on D.
  const market = marketOn(
    '2025-06-02',
    '2025-05-30',
    { OPT: { prevClose: 49, close: 50 } },
    { prev: { OPT: 0.2 }, today: { OPT: 0.35 } },
  );
  const call = position({
    symbol: 'OPT251017C00050000',
    positionType: 'LC',
    quantity: 2,
    underlyingSymbol: 'OPT',
    strikePrice: 50,
    expirationDate: '2025-10-17',
    entryDate: '2025-01-02',
  });
  const v = valuePosition(call, market, false, { riskFreeRate: 0.05, fallbackVol: 0.25 });

  it('delta_prev from S_prev 49, T 140/365, sigma_prev 20%: 0.5214; P&L 0.5214 × 2 × 100 × (50 − 49) = 104.3', () => {
    // By hand: T = 140/365 = 0.383562, sigma·sqrt(T) = 0.2 × 0.619324 = 0.123865
    //   d1 = (ln(49/50) + (0.05 + 0.2²/2)·T) / (sigma·sqrt(T))
    //      = (−0.020203 + 0.07 × 0.383562) / 0.123865 = (−0.020203 + 0.026849) / 0.123865 = 0.053657
    //   N(0.053657) = 0.5 + 0.053657 × 0.398942 × (1 − 0.053657²/6) ≈ 0.521396   (Taylor series of N near 0)
    // (Hull, example 19.1: S 49, K 50, r 5%, sigma 20%, T 0.3846 → delta 0.522.)
    // P&L = 0.521396 × 2 × 100 × (50 − 49) = 104.279
    assert.equal(v.pnlMethod, 'delta_approximation');
    near(v.pnl, 104.279, 1e-4);
  });

  it("D's volatility (35%) would give delta 0.5413 and 108.3: it is not the one used", () => {
    // d1 with sigma 35%: (−0.020203 + (0.05 + 0.06125) × 0.383562) / (0.35 × 0.619324) = 0.103585 → N = 0.54125
    assert.ok(Math.abs(v.pnl! - 0.54125 * 200) > 3, `${v.pnl}`);
  });

  it("the Greeks held at D's close use D's spot, T and volatility", () => {
    assert.equal(v.option!.volSource, 'realized');
    assert.equal(v.option!.vol, 0.35);
    near(v.option!.years, 137 / 365);
  });
});
