import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bsGreeks } from '../src/math/black-scholes.ts';
import { portfolioExposure } from '../src/portfolios/exposures.ts';
import { snapshot } from '../src/portfolios/snapshot.ts';
import {
  valuePosition,
  type HeldPosition,
  type MarketView,
  type PositionValue,
} from '../src/portfolios/valuation.ts';
import { position } from './helpers/positions.ts';

const D = '2025-06-02';
const PREV = '2025-05-30';
const settings = { riskFreeRate: 0.05, fallbackVol: 0.25 };
const near = (a: number | null, b: number, tol = 1e-9) =>
  assert.ok(a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

const quotes: Record<string, { close?: number; prevClose?: number }> = {
  AAA: { close: 50, prevClose: 48 },
  BBB: { close: 40, prevClose: 41 },
  SPY: { close: 500, prevClose: 495 },
  OPT: { close: 49, prevClose: 48 },
  GONE: { prevClose: 10 },
};
const market: MarketView = {
  date: D,
  prevDate: PREV,
  quote: (s) => quotes[s] ?? {},
  realizedVol: () => undefined,
  prevRealizedVol: () => undefined,
};

const pos = position;
/** 140 calendar days: Hull's 20 weeks. */
const EXPIRY = '2025-10-20';
/** An option on OPT (spot 49) at Hull's terms: strike 50, 20 weeks, sigma 20%. */
const hullOption = (positionType: 'LC' | 'SP', quantity: number) =>
  pos({
    symbol: `OPT251020${positionType === 'LC' ? 'C' : 'P'}00050000`,
    positionType,
    quantity,
    underlyingSymbol: 'OPT',
    strikePrice: 50,
    expirationDate: EXPIRY,
    impliedVolatility: 0.2,
  });
const betaTable: Record<string, number[]> = { AAA: [1.2], BBB: [0.8], SPY: [1], OPT: [1.5] };
const betas = (v: PositionValue) =>
  betaTable[v.betaSymbol] ? Float64Array.from(betaTable[v.betaSymbol]!) : undefined;
const value = (p: HeldPosition, firstDay = false) => valuePosition(p, market, firstDay, settings);

describe('Black–Scholes against Hull, Options, Futures and Other Derivatives (examples 19.1–19.6)', () => {
  // S = 49, K = 50, r = 5%, sigma = 20%, T = 20 weeks = 0.3846 years
  const g = bsGreeks({ call: true, spot: 49, strike: 50, years: 0.3846, rate: 0.05, vol: 0.2 });
  it('call price 2.40, delta 0.522, gamma 0.066, vega 12.1, theta −4.31 a year', () => {
    near(g.price, 2.4, 2e-3);
    near(g.delta, 0.522, 1e-3);
    near(g.gamma, 0.066, 1e-2);
    near(g.vega, 12.1, 2e-3);
    near(g.theta, -4.31, 2e-3);
  });
  it('put-call parity: C − P = S − K·e^(−rT), and the put delta is the call delta − 1', () => {
    const p = bsGreeks({ call: false, spot: 49, strike: 50, years: 0.3846, rate: 0.05, vol: 0.2 });
    near(g.price - p.price, 49 - 50 * Math.exp(-0.05 * 0.3846), 1e-12);
    near(p.delta, g.delta - 1, 1e-12);
    near(p.gamma, g.gamma, 1e-12);
  });
});

describe('portfolio exposure, hand-computed', () => {
  it('long and short stocks: weights 0.5 and −0.2, exposure 0.44, dollar 440', () => {
    const values = [
      value(pos({ symbol: 'AAA', positionType: 'LONG', quantity: 10 })),
      value(pos({ symbol: 'BBB', positionType: 'SHORT', quantity: -5 })),
    ];
    const e = portfolioExposure(values, betas, 1, 1000);
    near(e.exposure[0]!, 0.44);
    near(e.dollar[0]!, 440);
    assert.deepEqual(e.missing[0], []);
  });

  it('an ETF is a stock position: 2 SPY at 500 on equity 10,000 → weight 0.1, beta 1', () => {
    const e = portfolioExposure(
      [value(pos({ symbol: 'SPY', positionType: 'LONG', quantity: 2 }))],
      betas,
      1,
      10_000,
    );
    near(e.exposure[0]!, 0.1);
  });

  it("a long call counts as delta × its underlying: Hull's call, 2 contracts, equity 100,000", () => {
    const call = value(hullOption('LC', 2));
    assert.equal(call.betaSymbol, 'OPT');
    near(call.option!.years, 140 / 365, 1e-12);
    near(call.option!.delta, 0.522, 2e-3);
    // weight = delta × 2 × 100 × 49 / 100,000 ≈ 0.0512; exposure = weight × 1.5
    const e = portfolioExposure([call], betas, 1, 100_000);
    near(e.exposure[0]!, (call.option!.delta * 2 * 100 * 49 * 1.5) / 100_000, 1e-12);
    near(e.exposure[0]!, (0.522 * 200 * 49 * 1.5) / 100_000, 3e-3);
  });

  it('a short put: negative quantity × negative delta is a long exposure', () => {
    const put = value(hullOption('SP', -3));
    near(put.option!.delta, 0.522 - 1, 4e-3);
    assert.ok(put.exposure! > 0);
    near(put.exposure!, put.option!.delta * -300 * 49, 1e-12);
  });

  it('an option expired on or before D contributes nothing and is not reported missing', () => {
    const expired = value(
      pos({
        symbol: 'X',
        positionType: 'LC',
        quantity: 5,
        underlyingSymbol: 'OPT',
        strikePrice: 40,
        expirationDate: D,
      }),
    );
    assert.equal(expired.expired, true);
    const e = portfolioExposure([expired], betas, 1, 1000);
    assert.deepEqual([e.exposure[0], e.missing[0]], [0, []]);
  });

  it('a position without a beta contributes 0 and is listed as missing', () => {
    const values = [
      value(pos({ symbol: 'AAA', positionType: 'LONG', quantity: 10 })),
      value(pos({ symbol: 'GONE', positionType: 'LONG', quantity: 1 })),
    ];
    const e = portfolioExposure(values, betas, 1, 1000);
    near(e.exposure[0]!, 0.6);
    assert.deepEqual(
      e.missing[0]!.map((m) => m.symbol),
      ['GONE'],
    );
  });

  it('leverage: weights summing above 1 scale the exposure', () => {
    const values = [
      value(pos({ symbol: 'AAA', positionType: 'LONG', quantity: 30 })),
      value(pos({ symbol: 'SPY', positionType: 'LONG', quantity: 2 })),
    ];
    // weights 1.5 and 1.0 on equity 1,000 → 1.5·1.2 + 1.0·1 = 2.8
    near(portfolioExposure(values, betas, 1, 1000).exposure[0]!, 2.8);
  });
});

describe('P&L and the snapshot, hand-computed', () => {
  it('stock P&L = quantity × (C_D − C_prev); a missing price gives null and is listed', () => {
    const values = [
      value(pos({ symbol: 'AAA', positionType: 'LONG', quantity: 10 })), // +20
      value(pos({ symbol: 'BBB', positionType: 'SHORT', quantity: -5 })), // +5
      value(pos({ symbol: 'GONE', positionType: 'LONG', quantity: 1 })), // no close on D
    ];
    assert.deepEqual(
      values.map((v) => v.pnl),
      [20, 5, null],
    );
    const s = snapshot(values, { equity: 1000, cumulativePnl: 7 });
    assert.deepEqual(
      [
        s.dailyPnl,
        s.equity,
        s.dailyReturn,
        s.cumulativePnl,
        s.longExposure,
        s.shortExposure,
        s.grossExposure,
        s.netExposure,
        s.totalValue,
        s.cash,
      ],
      [25, 1025, 0.025, 32, 500, 200, 700, 300, 300, 725],
    );
    assert.deepEqual(
      s.missingPrices.map((m) => m.symbol),
      ['GONE'],
    );
  });

  it('first day of a portfolio: every P&L is 0', () => {
    const v = value(pos({ symbol: 'AAA', positionType: 'LONG', quantity: 10 }), true);
    assert.deepEqual([v.pnl, v.pnlMethod], [0, 'first_day']);
  });

  it('an option without its own closes: delta on the previous day × quantity × multiplier × (S_D − S_prev)', () => {
    const call = value(hullOption('LC', 2));
    const deltaPrev = bsGreeks({
      call: true,
      spot: 48,
      strike: 50,
      years: 143 / 365,
      rate: 0.05,
      vol: 0.2,
    }).delta;
    assert.equal(call.pnlMethod, 'delta_approximation');
    near(call.pnl!, deltaPrev * 200 * (49 - 48), 1e-12);
  });

  it('a position entered on D earns from its entry price', () => {
    const v = value(
      pos({ symbol: 'AAA', positionType: 'LONG', quantity: 10, entryDate: D, entryPrice: 49.5 }),
    );
    assert.equal(v.pnl, 5);
  });
});

describe('properties', () => {
  const stock = fc.record({
    symbol: fc.constantFrom('AAA', 'BBB', 'SPY', 'OPT'),
    quantity: fc.integer({ min: -1000, max: 1000 }).filter((q) => q !== 0),
  });
  const toPositions = (xs: { symbol: string; quantity: number }[]) =>
    xs.map((x) =>
      pos({ symbol: x.symbol, positionType: x.quantity > 0 ? 'LONG' : 'SHORT', quantity: x.quantity }),
    );
  const option = (q: number) =>
    pos({
      symbol: 'C',
      positionType: q > 0 ? 'LC' : 'SC',
      quantity: q,
      underlyingSymbol: 'OPT',
      strikePrice: 45,
      expirationDate: EXPIRY,
      impliedVolatility: 0.3,
    });

  it('exposure is linear in quantities', () => {
    fc.assert(
      fc.property(
        fc.array(stock, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: -5, max: 5 }).filter((q) => q !== 0),
        fc.integer({ min: 2, max: 7 }),
        (xs, oq, k) => {
          const base = [...toPositions(xs), option(oq)];
          const scaled = base.map((p) => ({ ...p, quantity: p.quantity * k }));
          const e1 = portfolioExposure(
            base.map((p) => value(p)),
            betas,
            1,
            1e6,
          ).dollar[0]!;
          const ek = portfolioExposure(
            scaled.map((p) => value(p)),
            betas,
            1,
            1e6,
          ).dollar[0]!;
          return Math.abs(ek - k * e1) <= 1e-9 * Math.max(1, Math.abs(ek));
        },
      ),
    );
  });

  it("a portfolio's exposure is its sub-portfolios' dollar exposures over the total equity", () => {
    fc.assert(
      fc.property(
        fc.array(stock, { minLength: 1, maxLength: 6 }),
        fc.array(stock, { minLength: 1, maxLength: 6 }),
        fc.double({ min: 1e4, max: 1e7, noNaN: true }),
        fc.double({ min: 1e4, max: 1e7, noNaN: true }),
        (a, b, eqA, eqB) => {
          const va = toPositions(a).map((p) => value(p));
          const vb = toPositions(b).map((p) => value(p));
          const whole = portfolioExposure([...va, ...vb], betas, 1, eqA + eqB).exposure[0]!;
          const parts =
            (portfolioExposure(va, betas, 1, eqA).dollar[0]! +
              portfolioExposure(vb, betas, 1, eqB).dollar[0]!) /
            (eqA + eqB);
          return Math.abs(whole - parts) <= 1e-12 * Math.max(1, Math.abs(whole));
        },
      ),
    );
  });
});
