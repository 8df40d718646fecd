import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { halfLifeWeights, weightedCovariance } from '../src/math/covariance.ts';
import { pseudoSolve, symmetricEigen } from '../src/math/dense.ts';
import { attributeDay } from '../src/risk/attribution.ts';
import { factorHedge, hedgeOperator, marketHedge } from '../src/risk/hedges.ts';
import { portfolioRisk, type RiskLookup, type RiskPosition } from '../src/risk/portfolio.ts';
import { riskSettings } from '../src/risk/report.ts';
import { loadScenarios, parseScenarios } from '../src/risk/scenarios.ts';
import { loadConfig } from '../src/config.ts';
import {
  conditionalMoves,
  resolveHistorical,
  resolveShock,
  stressPnl,
  type StressModel,
} from '../src/risk/stress.ts';
import { historicalVar, parametricVar, tailCount } from '../src/risk/var.ts';

const near = (a: number | null | undefined, b: number, tol = 1e-12) =>
  assert.ok(
    a !== null && a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
    `${a} ≠ ${b}`,
  );

function lookup(cov: number[][], betas: Record<string, number[]>, vols: Record<string, number>): RiskLookup {
  return {
    factors: cov.map((_, i) => `F${i + 1}`),
    covariance: Float64Array.from(cov.flat()),
    betas: (s) => (betas[s] ? Float64Array.from(betas[s]!) : undefined),
    specificVol: (s) => vols[s],
  };
}

describe('risk of a two-stock, two-factor portfolio worked on paper (METHODOLOGY.md 10)', () => {
  // Σ = [[0.04, 0.01], [0.01, 0.09]]; A: weight 0.6, β (1, 0), σ 0.2; B: weight 0.4, β (0, 1), σ 0.3.
  // Benchmark SPY (not held): β (0.5, 0.5), σ 0.1.
  const m = lookup(
    [
      [0.04, 0.01],
      [0.01, 0.09],
    ],
    { A: [1, 0], B: [0, 1], SPY: [0.5, 0.5] },
    { A: 0.2, B: 0.3, SPY: 0.1 },
  );
  const positions: RiskPosition[] = [
    { positionId: 1, symbol: 'A', weight: 0.6 },
    { positionId: 2, symbol: 'B', weight: 0.4 },
    { positionId: 3, symbol: 'NOBETA', weight: 0.1 },
    { positionId: 4, symbol: 'A', weight: null },
  ];
  const r = portfolioRisk(positions, 1_000_000, m, 'SPY');

  it('variances, risks and Euler contributions', () => {
    // x = (0.6, 0.4); Σx = (0.04·0.6 + 0.01·0.4, 0.01·0.6 + 0.09·0.4) = (0.028, 0.042)
    // V_F = 0.6·0.028 + 0.4·0.042 = 0.0168 + 0.0168 = 0.0336
    // V_S = 0.6²·0.2² + 0.4²·0.3² = 0.0144 + 0.0144 = 0.0288; σ = sqrt(0.0624)
    const sigma = Math.sqrt(0.0624);
    near(r.factorRisk, Math.sqrt(0.0336));
    near(r.specificRisk, Math.sqrt(0.0288));
    near(r.totalRisk, sigma);
    near(r.factors[0]!.contribution, 0.0168 / sigma);
    near(r.factors[1]!.contribution, 0.0168 / sigma);
    near(r.symbols.find((s) => s.symbol === 'A')!.contribution, 0.0144 / sigma);
    near(r.symbols.find((s) => s.symbol === 'B')!.contribution, 0.0144 / sigma);
    // position A: 0.6 × (β_A·Σx + v_A σ_A²) = 0.6 × (0.028 + 0.6·0.04) = 0.0312; B: 0.4 × (0.042 + 0.4·0.09) = 0.0312
    near(r.positions[0]!.contribution, 0.0312 / sigma);
    near(r.positions[1]!.contribution, 0.0312 / sigma);
    near(r.positions[0]!.percent, 0.5);
    // percents: factors 0.0168/0.0624 each, symbols 0.0144/0.0624 each, together 100%
    near(r.factors[0]!.percent, 0.0168 / 0.0624);
    near(
      [...r.factors, ...r.symbols].reduce((s, c) => s + c.percent, 0),
      1,
    );
  });

  it('tracking error to a benchmark held at weight 1', () => {
    // a = x − β_SPY = (0.1, −0.1); aᵀΣa = 0.04·0.01 − 2·0.01·0.01 + 0.09·0.01 = 0.0011
    // specific: A 0.0144, B 0.0144, SPY (0 − 1)²·0.1² = 0.01 → TE² = 0.0399
    near(r.trackingError, Math.sqrt(0.0399));
  });

  it('positions without betas or price are listed as missing with the reason', () => {
    assert.deepEqual(r.missing, [
      { positionId: 3, symbol: 'NOBETA', reason: 'no betas' },
      { positionId: 4, symbol: 'A', reason: 'no price' },
    ]);
  });
});

describe('Euler: contributions sum to total risk', () => {
  it('for random books, factors + symbols and positions each sum to σ within 1e-12', () => {
    const arb = fc.record({
      l: fc.array(fc.double({ min: -0.3, max: 0.3, noNaN: true }), { minLength: 9, maxLength: 9 }),
      w: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
      b: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 24, maxLength: 24 }),
      v: fc.array(fc.double({ min: 0.05, max: 0.8, noNaN: true }), { minLength: 8, maxLength: 8 }),
    });
    fc.assert(
      fc.property(arb, ({ l, w, b, v }) => {
        // Σ = L Lᵀ + 0.01 I (3×3), positive definite
        const cov = Array.from({ length: 3 }, (_, i) =>
          Array.from({ length: 3 }, (_, j) => {
            let s = i === j ? 0.01 : 0;
            for (let p = 0; p < 3; p++) s += l[i * 3 + p]! * l[j * 3 + p]!;
            return s;
          }),
        );
        const syms = ['S0', 'S1', 'S2', 'S3'];
        const m = lookup(
          cov,
          Object.fromEntries(syms.map((s, i) => [s, b.slice(i * 3, i * 3 + 3)])),
          Object.fromEntries(syms.map((s, i) => [s, v[i]!])),
        );
        const r = portfolioRisk(
          w.map((x, i) => ({ positionId: i, symbol: syms[i % 4]!, weight: x })),
          1,
          m,
          'S0',
        );
        const a = [...r.factors, ...r.symbols].reduce((s, c) => s + c.contribution, 0);
        const p = r.positions.reduce((s, c) => s + c.contribution, 0);
        return Math.abs(a - r.totalRisk) <= 1e-12 && Math.abs(p - r.totalRisk) <= 1e-12;
      }),
    );
  });
});

describe('value at risk (METHODOLOGY.md 11)', () => {
  it('parametric VaR and ES scale with sqrt(σ²), with the textbook normal multipliers', () => {
    // σ_1d = 0.01 (σ = 0.01·√252), E = 1e6 → VaR95 = 1.644854 × 10,000; ES95 = φ(1.644854)/0.05 = 2.062713 × 10,000
    const one = parametricVar(0.01 * Math.sqrt(252), 1e6);
    near(one.var_95, 16448.53626951472, 1e-12);
    near(one.var_99, 23263.47874040841, 1e-12);
    near(one.es_95, 20627.12807507, 1e-10);
    near(one.es_99, 26652.14220346, 1e-10);
    const four = parametricVar(Math.sqrt(4) * 0.01 * Math.sqrt(252), 1e6); // variance × 4 → VaR × 2
    for (const k of ['var_95', 'es_95', 'var_99', 'es_99'] as const) near(four[k], 2 * one[k]);
  });

  it('historical VaR on a hand-made series: the 13th and 3rd largest of 250 losses', () => {
    assert.deepEqual([tailCount(250, 0.95), tailCount(250, 0.99)], [13, 3]);
    // P&L −1, −2, …, −250 in a scrambled order: losses 250, 249, …
    const pnl = Float64Array.from({ length: 250 }, (_, i) => -(((i * 97) % 250) + 1));
    const h = historicalVar(pnl);
    assert.equal(h.days, 250);
    assert.equal(h.var_95, 238); // 250 − 12
    assert.equal(h.es_95, 244); // mean of 250 … 238
    assert.equal(h.var_99, 248);
    assert.equal(h.es_99, 249);
  });
});

describe('stress tests (METHODOLOGY.md 12)', () => {
  const proxies = ['SPY', 'VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV'];
  const identity = (k: number) => Float64Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0));
  const model = (cov: Float64Array): StressModel => ({
    proxies,
    proxyCovariance: cov,
    factorProxies: proxies.slice(1),
  });

  it('a correlated shock on an identity covariance equals the uncorrelated one', () => {
    const shocks = { SPY: -0.1, MTUM: 0.05 };
    const a = resolveShock(
      { name: 'x', description: '', kind: 'shock', shocks, correlated: true },
      model(identity(7)),
    );
    const b = resolveShock(
      { name: 'x', description: '', kind: 'shock', shocks, correlated: false },
      model(identity(7)),
    );
    assert.deepEqual(a.shocks, b.shocks);
    assert.deepEqual([...a.factorMoves], [0, 0, 0.05, 0, 0, 0]);
  });

  it('the conditional expectation reproduces the shocked proxies and regresses the others', () => {
    // 2×2 by hand: Var(SPY) 0.04, Cov 0.02 → E[VTV | SPY = −0.1] = 0.02 / 0.04 × (−0.1) = −0.05
    const two = conditionalMoves(Float64Array.of(0.04, 0.02, 0.02, 0.09), 2, [0], [-0.1]);
    near(two[0], -0.1);
    near(two[1], -0.05);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 49, maxLength: 49 }),
        (l) => {
          const cov = new Float64Array(49);
          for (let i = 0; i < 7; i++)
            for (let j = 0; j < 7; j++) {
              let s = i === j ? 0.05 : 0;
              for (let p = 0; p < 7; p++) s += l[i * 7 + p]! * l[j * 7 + p]!;
              cov[i * 7 + j] = s;
            }
          const all = conditionalMoves(cov, 7, [0, 3, 5], [-0.1, 0.02, 0.07]);
          return (
            Math.abs(all[0]! + 0.1) < 1e-12 &&
            Math.abs(all[3]! - 0.02) < 1e-12 &&
            Math.abs(all[5]! - 0.07) < 1e-12
          );
        },
      ),
    );
  });

  it('a scenario moving nothing of the model is not applicable, with its reason', () => {
    const rates = resolveShock(
      { name: 'Rates', description: '', kind: 'shock', shocks: { TLT: -0.17 }, correlated: true },
      model(identity(7)),
    );
    assert.equal(rates.status, 'not_applicable');
    assert.match(rates.reason!, /TLT/);
    const spyAlone = resolveShock(
      { name: 'S', description: '', kind: 'shock', shocks: { SPY: -0.1 }, correlated: false },
      model(identity(7)),
    );
    assert.equal(spyAlone.status, 'not_applicable');
    const old = resolveHistorical(
      { name: 'H', description: '', kind: 'historical', start: '1990-01-02', end: '1990-02-01' },
      model(identity(7)),
      ['AAA'],
      () => undefined,
    );
    assert.equal(old.status, 'not_applicable');
  });

  it('historical windows: actual returns where both closes exist, else the betas on the proxies', () => {
    const closes: Record<string, number> = {
      'VTV 2020-02-19': 100,
      'VTV 2020-03-23': 70,
      'AAA 2020-02-19': 50,
      'AAA 2020-03-23': 40,
    };
    const h = resolveHistorical(
      { name: 'H', description: '', kind: 'historical', start: '2020-02-19', end: '2020-03-23' },
      model(identity(7)),
      ['AAA', 'BBB'],
      (s, d) => closes[`${s} ${d}`],
    );
    near(h.factorMoves[0], -0.3);
    near(h.actual!.get('AAA'), -0.2);
    assert.equal(h.actual!.has('BBB'), false);
  });

  it('delta-gamma P&L of an option: exposure × R + ½ × size × Γ × S² × R²', () => {
    // 2 calls × 100, Δ 0.5, Γ 0.02, S 100: exposure 0.5·200·100 = 10,000; dollar gamma 200·0.02·100² = 40,000
    // R = −10%: 10,000 × (−0.1) + ½ × 40,000 × 0.01 = −1,000 + 200 = −800; a stock of 5,000: −500
    const { pnl } = stressPnl(
      [
        { symbol: 'U', exposure: 10_000, dollarGamma: 40_000 },
        { symbol: 'S', exposure: 5_000, dollarGamma: 0 },
      ],
      () => -0.1,
    );
    near(pnl, -1300);
  });

  it('the shipped scenarios load; a bad file is refused naming scenario and field', () => {
    const s = loadScenarios();
    assert.ok(s.length >= 11);
    for (const w of ['COVID crash', '2022 rate shock', '2018 Q4 selloff'])
      assert.ok(s.some((x) => x.name === w && x.kind === 'historical'));
    assert.throws(
      () =>
        parseScenarios(
          [
            { name: 'A', kind: 'shock', shocks: { SPY: 'x' } },
            { kind: 'historical', start: '2020-02-30' },
          ],
          'f.json',
        ),
      (e: Error) =>
        /f\.json: scenario 1 \("A"\): shocks\."SPY" must be a finite return/.test(e.message) &&
        /scenario 2: "name" must be a non-empty string/.test(e.message) &&
        /scenario 2: "start" must be a date/.test(e.message),
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'fu-scen-'));
    try {
      const file = path.join(dir, 's.json');
      writeFileSync(file, '[{"name": "x", "kind": "shock", "shocks": {}}');
      assert.throws(() => loadScenarios(file), /s\.json: .*JSON/);
      // FU_SCENARIOS_PATH names a file of one's own: it replaces the shipped list, validated alike
      writeFileSync(file, '[{"name": "Tech wreck", "kind": "shock", "shocks": {"VUG": -0.2}}]');
      const config = loadConfig({ FU_SCENARIOS_PATH: file, FU_RISK_HALF_LIFE: '21' }, dir);
      const settings = riskSettings(config);
      assert.equal(settings.halfLife, 21);
      assert.deepEqual(
        settings.scenarios!.map((x) => [x.name, x.kind]),
        [['Tech wreck', 'shock']],
      );
      writeFileSync(file, '[{"name": "Bad", "kind": "shock", "shocks": {"VUG": -2}}]');
      assert.throws(
        () => riskSettings(config),
        /scenario 1 \("Bad"\): shocks\."VUG" must be a finite return above -1/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('factor P&L attribution (METHODOLOGY.md 13)', () => {
  it('equity_prev × x_prev × f_D per factor; the rest is specific; the parts sum to the day', () => {
    // 1,000,000 × 0.5 × 0.01 = 5,000; 1,000,000 × (−0.2) × 0.02 = −4,000; specific 9,000 − 1,000 = 8,000
    const a = attributeDay(['Value', 'Growth'], [0.5, -0.2], 1_000_000, [0.01, 0.02], 9_000);
    near(a.factorPnl.Value, 5_000);
    near(a.factorPnl.Growth, -4_000);
    near(a.specificPnl, 8_000);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.double({ min: -0.1, max: 0.1, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.double({ min: -1e5, max: 1e5, noNaN: true }),
        (x, f, pnl) => {
          const r = attributeDay(['a', 'b', 'c', 'd', 'e', 'f'], x, 1e6, f, pnl);
          const sum = Object.values(r.factorPnl).reduce((s, v) => s + v, 0) + r.specificPnl;
          return Math.abs(sum - pnl) <= 1e-9;
        },
      ),
    );
    const first = attributeDay(['Value'], null, 0, [0.01], 0);
    assert.deepEqual(first, { factorPnl: { Value: 0 }, specificPnl: 0 });
  });
});

describe('hedges', () => {
  it('one factor, one ETF: h = −(bΣx)/(bΣb); factor risk after 0', () => {
    // Σ = 0.04, x = 0.5, ETF beta 2: h = −(2·0.04·0.5)/(2·0.04·2) = −0.25 → notional −250,000 of 1,000,000
    const cov = Float64Array.of(0.04);
    const h = factorHedge(
      Float64Array.of(0.5),
      cov,
      hedgeOperator(cov, [{ symbol: 'E', betas: Float64Array.of(2) }], 1),
      1e6,
    );
    near(h.etfs[0]!.notional, -250_000, 1e-12);
    near(h.factorRiskBefore, 0.1); // sqrt(0.25 × 0.04)
    near(h.factorRiskAfter, 0);
  });

  it('seven ETFs on six factors (more ETFs than factors): the least-norm hedge removes all factor risk', () => {
    const cov = Float64Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 0.04 : 0.01));
    const etfs = Array.from({ length: 7 }, (_, e) => ({
      symbol: `E${e}`,
      betas: Float64Array.from({ length: 6 }, (_, j) => (e === 0 ? 0.8 : j === e - 1 ? 1 : 0.1)),
    }));
    const h = factorHedge(
      Float64Array.of(0.3, -0.2, 0.5, 0.1, 0, 0.4),
      cov,
      hedgeOperator(cov, etfs, 6),
      1e6,
    );
    assert.ok(h.factorRiskBefore > 0.01);
    assert.ok(h.factorRiskAfter < 1e-9, String(h.factorRiskAfter));
  });

  it('a book that is the market ETF itself has beta 1: the market hedge sells all of it', () => {
    const betas = Float64Array.of(0.6, 0.4);
    const m = marketHedge(
      betas,
      Float64Array.of(0.04, 0.01, 0.01, 0.09),
      { symbol: 'SPY', betas, specificVol: 0.05, weight: 1 },
      1e6,
    );
    near(m.beta, 1);
    near(m.notional, -1e6);
  });
});

describe('kernels: weighted covariance and small dense solves', () => {
  it('half-life weights and a weighted covariance by hand', () => {
    assert.deepEqual([...halfLifeWeights(3, 1)], [0.25, 0.5, 1]);
    // x = [1, 3], weights [1, 3]: μ = 2.5, C = (1·2.25 + 3·0.25) / 4 = 0.75
    near(weightedCovariance(Float64Array.of(1, 3), 2, 1, Float64Array.of(1, 3))[0], 0.75);
    // two columns, equal weights: x = (1, 2), (3, 6) → var 1, 4; cov 2
    assert.deepEqual(
      [...weightedCovariance(Float64Array.of(1, 2, 3, 6), 2, 2, Float64Array.of(1, 1))],
      [1, 2, 2, 4],
    );
  });

  it('eigen-decomposition and the least-norm solve', () => {
    const { values } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    assert.deepEqual(
      [...values].sort().map((v) => Math.round(v * 1e12) / 1e12),
      [1, 3],
    );
    const x = pseudoSolve(Float64Array.of(1, 1, 1, 1), 2, [2, 2]);
    near(x[0], 1);
    near(x[1], 1);
  });
});
