import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backtest,
  biasStatistic,
  binomialCdf,
  chiSquareSurvival,
  christoffersen,
  erfc,
  kupiec,
  trafficLight,
  transitions,
} from '../src/risk/validation/stats.ts';
import {
  factorBias,
  rollingBias,
  specificSummary,
  specificZ,
  validatePortfolio,
  type PortfolioInputs,
} from '../src/risk/validation/validate.ts';

/** Risk forecast validation (METHODOLOGY.md 14), every expected value worked by hand below. */

const near = (a: number | null | undefined, b: number, tol = 1e-9) =>
  assert.ok(
    a !== null && a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
    `${a} ≠ ${b}`,
  );

/**
 * P(|Z| > a) for a standard normal, by Simpson's rule on its density from a to 12 (the mass past 12
 * is below 1e-32): an independent route to the χ²(1) tail, P(χ²₁ > x) = P(|Z| > √x).
 */
function normalTwoTails(a: number): number {
  const steps = 20_000;
  const h = (12 - a) / steps;
  const f = (u: number) => Math.exp(-0.5 * u * u) / Math.sqrt(2 * Math.PI);
  let s = f(a) + f(12);
  for (let i = 1; i < steps; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return (2 * s * h) / 3;
}

describe('the χ² tails of 1 and 2 degrees of freedom', () => {
  it('hit the textbook critical values', () => {
    // tables: χ²₁ 3.841 (5%), 6.635 (1%), 10.828 (0.1%); χ²₂ 5.991 (5%), 9.210 (1%)
    near(chiSquareSurvival(3.841458820694124, 1), 0.05, 1e-12);
    near(chiSquareSurvival(6.634896601021214, 1), 0.01, 1e-12);
    near(chiSquareSurvival(10.827566170662733, 1), 0.001, 1e-11);
    near(chiSquareSurvival(5.991464547107979, 2), 0.05, 1e-12);
    near(chiSquareSurvival(9.21034037197618, 2), 0.01, 1e-12);
    assert.equal(chiSquareSurvival(0, 1), 1);
    assert.equal(chiSquareSurvival(0, 2), 1);
  });

  it('df 1 agrees with a numerical integral of the normal density, across both branches of erfc', () => {
    for (const x of [0.01, 0.5, 1, 2, 4, 7.9, 8.1, 12.955, 20, 40]) {
      const want = normalTwoTails(Math.sqrt(x));
      const got = chiSquareSurvival(x, 1);
      assert.ok(Math.abs(got - want) <= 1e-10 * Math.max(want, 1e-12) + 1e-15, `x ${x}: ${got} vs ${want}`);
    }
    near(erfc(1), 0.157299207050285, 1e-13);
    near(erfc(-1), 2 - 0.157299207050285, 1e-13);
  });
});

describe('Kupiec unconditional coverage', () => {
  it('n = 250, x = 10, p = 0.01 against its closed form', () => {
    // LR_uc = −2 [240 ln 0.99 + 10 ln 0.01] + 2 [240 ln 0.96 + 10 ln 0.04]
    //   240 ln 0.99 = 240 × (−0.010050336) = −2.412080604;  10 ln 0.01 = −46.051701860
    //   240 ln 0.96 = 240 × (−0.040821995) = −9.797278684;  10 ln 0.04 = −32.188758249
    //   LR = −2 (−48.463782464) + 2 (−41.986036933) = 96.927564928 − 83.972073866 = 12.955491062
    const k = kupiec(250, 10, 0.01)!;
    near(k.lr, 12.955491062, 1e-9);
    // p-value P(χ²₁ > 12.9555): between the 0.1% (10.83) and 0.01% (15.14) table points
    assert.ok(k.p < 0.001 && k.p > 0.0001, `${k.p}`);
    near(k.p, normalTwoTails(Math.sqrt(k.lr)), 1e-9);
  });

  it('x = 0 and x = n are finite (0 × ln 0 = 0)', () => {
    // x = 0: LR = −2 × 250 ln 0.99 + 2 × 250 ln 1 = 5.025167926
    const z = kupiec(250, 0, 0.01)!;
    near(z.lr, -500 * Math.log(0.99), 1e-12);
    near(z.lr, 5.025167926, 1e-9);
    assert.ok(Number.isFinite(z.p) && z.p > 0 && z.p < 1);
    // x = n: LR = −2 × 250 ln 0.01 + 2 × 250 ln 1 = 2302.585093
    const all = kupiec(250, 250, 0.01)!;
    near(all.lr, -500 * Math.log(0.01), 1e-12);
    assert.ok(Number.isFinite(all.p) && all.p >= 0);
    // x/n = p exactly: the two terms are equal, LR = 0, p-value 1
    const exact = kupiec(100, 1, 0.01)!;
    assert.equal(exact.lr, 0);
    assert.equal(exact.p, 1);
    assert.equal(kupiec(0, 0, 0.01), null);
  });
});

describe('Christoffersen independence on short series worked by hand', () => {
  it('0 0 1 0 0 1 1 0: n00 2, n01 2, n10 2, n11 1', () => {
    const t = transitions([0, 0, 1, 0, 0, 1, 1, 0]);
    assert.deepEqual(t, { n00: 2, n01: 2, n10: 2, n11: 1 });
    // π01 = 2/4, π11 = 1/3, π = 3/7
    // restricted: 4 ln(4/7) + 3 ln(3/7) = −2.238463152 − 2.541893581 = −4.780356733
    // free: 2 ln ½ + 2 ln ½ + 2 ln ⅔ + 1 ln ⅓ = −2.772588722 − 0.810930216 − 1.098612289 = −4.682131227
    // LR_ind = −2 (−4.780356733) + 2 (−4.682131227) = 0.196451011
    const c = christoffersen(t)!;
    near(c.lr, 0.196451011, 1e-8);
    near(c.p, normalTwoTails(Math.sqrt(c.lr)), 1e-9);
  });

  it('0 1 0 1: every exception followed by a calm day, π11 = 0 (0 × ln 0 = 0)', () => {
    const t = transitions([0, 1, 0, 1]);
    assert.deepEqual(t, { n00: 0, n01: 2, n10: 1, n11: 0 });
    // π01 = 1, π11 = 0, π = 2/3; free terms all ln 1 or 0 × ln 0 → 0
    // LR = −2 [1 × ln ⅓ + 2 ln ⅔] = −2 (−1.098612289 − 0.810930216) = 3.819085010
    near(christoffersen(t)!.lr, 3.81908501, 1e-8);
  });

  it('no transition out of state 1 (the only exception is the last day): null, and LR_cc null', () => {
    const t = transitions([0, 0, 0, 1]);
    assert.deepEqual(t, { n00: 2, n01: 1, n10: 0, n11: 0 });
    assert.equal(christoffersen(t), null);
    const b = backtest([0, 0, 0, 1], 0.99);
    assert.equal(b.lr_ind, null);
    assert.equal(b.p_ind, null);
    assert.equal(b.lr_cc, null);
    assert.equal(b.p_cc, null);
    assert.notEqual(b.lr_uc, null);
    // and none out of state 0 (all exceptions)
    assert.equal(christoffersen(transitions([1, 1, 1])), null);
  });

  it('LR_cc = LR_uc + LR_ind with its χ²(2) p-value e^(−LR/2)', () => {
    const b = backtest([0, 0, 1, 0, 0, 1, 1, 0], 0.95);
    // n = 8, x = 3, p = 0.05: LR_uc = −2 [5 ln 0.95 + 3 ln 0.05] + 2 [5 ln(5/8) + 3 ln(3/8)]
    const uc =
      -2 * (5 * Math.log(0.95) + 3 * Math.log(0.05)) + 2 * (5 * Math.log(5 / 8) + 3 * Math.log(3 / 8));
    near(b.lr_uc, uc, 1e-12);
    near(b.lr_cc, uc + 0.196451011, 1e-8);
    near(b.p_cc, Math.exp(-(uc + 0.196451011) / 2), 1e-8);
    assert.equal(b.exceptions, 3);
    near(b.expected, 0.4, 1e-12);
  });

  it('n = 0: counts 0 and every statistic and the zone null', () => {
    assert.deepEqual(backtest([], 0.99), {
      n: 0,
      exceptions: 0,
      expected: 0,
      lr_uc: null,
      p_uc: null,
      lr_ind: null,
      p_ind: null,
      lr_cc: null,
      p_cc: null,
      zone: null,
    });
  });
});

describe('the traffic light', () => {
  it('n = 250 at 99%: green 0–4, yellow 5–9, red from 10 (the Basel table)', () => {
    for (let x = 0; x <= 250; x++)
      assert.equal(trafficLight(250, x, 0.01), x <= 4 ? 'green' : x <= 9 ? 'yellow' : 'red', `x = ${x}`);
    assert.equal(trafficLight(0, 0, 0.01), null);
  });

  it('the binomial CDF: small cases by hand', () => {
    // n = 2, p = ½: F(0) = ¼, F(1) = ¾, F(2) = 1
    near(binomialCdf(0, 2, 0.5), 0.25, 1e-15);
    near(binomialCdf(1, 2, 0.5), 0.75, 1e-15);
    assert.equal(binomialCdf(2, 2, 0.5), 1);
    // n = 250, p = 0.01: F(4) = 0.8922 and F(9) = 0.9997 in the Basel table
    near(binomialCdf(4, 250, 0.01), 0.8922, 1e-4);
    near(binomialCdf(9, 250, 0.01), 0.9997, 1e-4);
  });
});

describe('the bias statistic', () => {
  it('z = (1, −1, 2, −2): B = sqrt(10/3), outside 1 ± sqrt(1/2)', () => {
    const b = biasStatistic([1, -1, 2, -2]);
    assert.equal(b.n, 4);
    near(b.bias, Math.sqrt(10 / 3), 1e-15);
    near(b.band_low, 1 - Math.sqrt(0.5), 1e-15);
    near(b.band_high, 1 + Math.sqrt(0.5), 1e-15);
    assert.equal(b.within_band, false);
  });

  it('z = (0.5, 1.5, 2.5) with a skipped day: mean 1.5, B = 1, inside', () => {
    const b = biasStatistic([0.5, NaN, 1.5, 2.5]);
    assert.equal(b.n, 3);
    near(b.bias, 1, 1e-15);
    assert.equal(b.within_band, true);
  });

  it('n < 2: bias, band and verdict null (never NaN)', () => {
    assert.deepEqual(biasStatistic([NaN, 0.3]), {
      n: 1,
      bias: null,
      band_low: null,
      band_high: null,
      within_band: null,
    });
    assert.deepEqual(biasStatistic([]).bias, null);
  });

  it('rolling: each window of 3 over z = (1, −1, 1, −1, 3)', () => {
    // windows (1,−1,1): mean ⅓, Σd² = 8/3 → B = sqrt(4/3); (−1,1,−1) likewise; (1,−1,3): mean 1, Σd² = 8 → 2
    const r = rollingBias([1, -1, 1, -1, 3], 3);
    assert.equal(r[0], null);
    assert.equal(r[1], null);
    near(r[2], Math.sqrt(4 / 3), 1e-15);
    near(r[3], Math.sqrt(4 / 3), 1e-15);
    near(r[4], 2, 1e-15);
    // with a minimum of 3 usable days, a window holding a skipped day is null
    assert.deepEqual(rollingBias([1, -1, NaN, -1, 3], 3, 3), [null, null, null, null, null]);
    near(rollingBias([1, -1, NaN, 1, -1, 3], 3, 3)[5], 2, 1e-15);
  });
});

describe('prev(t) alignment on six days, one without a forecast', () => {
  // d0…d5; the forecast σ_1d stored as of each day: 0.01, 0.02, none, 0.03, 0.01, 0.05 (never used:
  // d5's forecast is for d6). Variance stored annualised: Σ = 252 σ_1d².
  // Returns: d1 0.01, d2 −0.04, d3 0.5 (skipped: d2 has no forecast), d4 0.09, d5 −0.01.
  // z = 0.01/0.01, −0.04/0.02, 0.09/0.03, −0.01/0.01 = (1, −2, 3, −1): mean 0.25,
  // Σ(z − z̄)² = 0.5625 + 5.0625 + 7.5625 + 1.5625 = 14.75 → B = sqrt(14.75 / 3).
  const dates = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08', '2024-01-09'];
  const sigma = [0.01, 0.02, NaN, 0.03, 0.01, 0.05];
  const ret = [NaN, 0.01, -0.04, 0.5, 0.09, -0.01];

  it('factor bias: n = 4, one skipped', () => {
    const [b] = factorBias(
      {
        dates,
        factors: ['Value'],
        variance: Float64Array.from(sigma, (s) => 252 * s * s),
        returns: Float64Array.from(ret),
      },
      5,
    );
    assert.equal(b!.n, 4);
    assert.equal(b!.skipped, 1);
    near(b!.bias, Math.sqrt(14.75 / 3), 1e-12);
    near(b!.band_low, 1 - Math.sqrt(0.5), 1e-15);
  });

  it('a window longer than the calendar: the first day has no prev and is skipped too', () => {
    const [b] = factorBias(
      {
        dates,
        factors: ['Value'],
        variance: Float64Array.from(sigma, (s) => 252 * s * s),
        returns: Float64Array.from(ret),
      },
      250,
    );
    assert.equal(b!.n, 4);
    assert.equal(b!.skipped, 2);
  });

  it('portfolio: bias from daily returns and total risk; VaR exceptions against the previous day', () => {
    // equity 1,000: pnl = 1,000 × return; total risk σ = σ_1d × sqrt(252)
    // parametric VaR 95% as of each day: 15, 15, none, 15, 15, 15. Losses −pnl: d1 −10, d2 40, d3 −500,
    // d4 −90, d5 10; d3 is judged against d2's VaR (none): skipped. Exceptions: d2 (40 > 15); n = 4.
    const nan = () => new Float64Array(6).fill(NaN);
    const p95 = Float64Array.from([15, 15, NaN, 15, 15, 15]);
    const x: PortfolioInputs = {
      dates,
      pnl: Float64Array.from(ret, (r) => 1000 * r),
      dailyReturn: Float64Array.from(ret),
      totalRisk: Float64Array.from(sigma, (s) => s * Math.sqrt(252)),
      var: {
        'parametric 0.95': p95,
        'parametric 0.99': nan(),
        'historical 0.95': nan(),
        'historical 0.99': Float64Array.from([5, 5, 5, 5, 5, 5]),
      },
    };
    const v = validatePortfolio(x, 5);
    assert.equal(v.bias.n, 4);
    assert.equal(v.bias.skipped, 1);
    near(v.bias.bias, Math.sqrt(14.75 / 3), 1e-12);
    const p = v.var_backtests.find((b) => b.method === 'parametric' && b.confidence === 0.95)!;
    assert.equal(p.n, 4);
    assert.equal(p.exceptions, 1);
    const none = v.var_backtests.find((b) => b.method === 'parametric' && b.confidence === 0.99)!;
    assert.equal(none.n, 0);
    assert.equal(none.zone, null);
    // historical 99% at 5 every day: losses d1 −10, d2 40, d3 −500, d4 −90, d5 10 → d2 and d5, n = 5
    const h = v.var_backtests.find((b) => b.method === 'historical' && b.confidence === 0.99)!;
    assert.equal(h.n, 5);
    assert.equal(h.exceptions, 2);
    assert.deepEqual(
      v.exceptions.map((e) => [e.date, e.method, e.confidence, Math.round(e.loss), e.var]),
      [
        ['2024-01-04', 'parametric', 0.95, 40, 15],
        ['2024-01-04', 'historical', 0.99, 40, 5],
        ['2024-01-09', 'historical', 0.99, 10, 5],
      ],
    );
  });

  it('specific: e_t = r_t − β(prev t)·f_t, scaled by σ_s(prev t)', () => {
    // one factor; β as of each day 1, 2, 1, 1, 1, 9; σ_s = 0.01 × sqrt(252) as of every day but d2
    // f: d1 0.01, d2 0.02, d3 0, d4 −0.01, d5 0.03; r: d1 0.02, d2 0.03, d3 0.04, d4 0, d5 0.02
    // e: d1 0.02 − 1·0.01 = 0.01; d2 0.03 − 2·0.02 = −0.01; d3 skipped; d4 0 + 0.01 = 0.01;
    //    d5 0.02 − 0.03 = −0.01 → z = (1, −1, 1, −1): mean 0, Σz² = 4, B = sqrt(4/3)
    const vol = 0.01 * Math.sqrt(252);
    const z = specificZ(
      {
        betas: Float64Array.from([1, 2, 1, 1, 1, 9]),
        specificVol: Float64Array.from([vol, vol, NaN, vol, vol, vol]),
        returns: [NaN, 0.02, 0.03, 0.04, 0, 0.02],
      },
      Float64Array.from([NaN, 0.01, 0.02, 0, -0.01, 0.03]),
      1,
      1,
      6,
    );
    assert.equal(Number.isNaN(z[2]!), true);
    const b = biasStatistic(z);
    assert.equal(b.n, 4);
    near(b.bias, Math.sqrt(4 / 3), 1e-12);
    // the summary: median over symbols with n ≥ 2, share inside their bands; n < 2 not counted
    const s = specificSummary([b, biasStatistic([1, -1]), biasStatistic([0.2])]);
    // B of (1, −1) = sqrt(2) = 1.414 vs band 1 ± 1 → inside; B = sqrt(4/3) = 1.155, band 1 ± 0.707 → inside
    assert.equal(s.symbols, 2);
    near(s.median_bias, (Math.sqrt(4 / 3) + Math.sqrt(2)) / 2, 1e-12);
    assert.equal(s.share_within_band, 1);
    assert.deepEqual(specificSummary([]), { median_bias: null, share_within_band: null, symbols: 0 });
  });
});
