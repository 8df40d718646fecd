import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activeNumbers, benchmarkOrder, BenchmarkCycleError } from '../src/portfolios/benchmark.ts';
import { checkLimits, limitValue, type Limit, type LimitInputs } from '../src/portfolios/limits.ts';
import type { RiskLookup } from '../src/risk/portfolio.ts';

/**
 * METHODOLOGY.md 15 worked on paper: a two-stock book against a symbol benchmark and against a
 * benchmark portfolio; limits on its numbers; the order benchmarks are computed in.
 */
const near = (a: number | null | undefined, b: number, tol = 1e-12) =>
  assert.ok(
    a !== null && a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
    `${a} ≠ ${b}`,
  );

// Σ = [[0.04, 0.01], [0.01, 0.09]]; A: β (1, 0), σ 0.2; B: β (0, 1), σ 0.3; SPY: β (0.5, 0.5), σ 0.1
const betas: Record<string, number[]> = { A: [1, 0], B: [0, 1], SPY: [0.5, 0.5] };
const vols: Record<string, number> = { A: 0.2, B: 0.3, SPY: 0.1 };
const m: RiskLookup = {
  factors: ['F1', 'F2'],
  covariance: Float64Array.from([0.04, 0.01, 0.01, 0.09]),
  betas: (s) => (betas[s] ? Float64Array.from(betas[s]!) : undefined),
  specificVol: (s) => vols[s],
};
// the model's factors: the two risk factors and a descriptive spread (exposure only)
const names = ['F1', 'F2', 'Spread'];
const book = {
  positions: [
    { positionId: 1, symbol: 'A', weight: 0.6 },
    { positionId: 2, symbol: 'B', weight: 0.4 },
  ],
  exposures: Float64Array.from([0.6, 0.4, 0.3]),
  dailyReturn: 0.012,
};

describe('active numbers against a symbol benchmark (SPY held at weight 1)', () => {
  const r = activeNumbers(
    names,
    book,
    {
      exposures: Float64Array.from([0.5, 0.5, 0.1]),
      weights: [{ positionId: 0, symbol: 'SPY', weight: 1 }],
      dailyReturn: 0.005,
    },
    m,
  );
  it('active exposures x − x_B, every factor of the model', () => {
    near(r.activeExposures.F1, 0.1);
    near(r.activeExposures.F2, -0.1);
    near(r.activeExposures.Spread, 0.2);
  });
  it('tracking error and its contributions', () => {
    // a = (0.1, −0.1); Σa = (0.003, −0.008); aᵀΣa = 0.0003 + 0.0008 = 0.0011
    // specific: A 0.6²·0.04 = 0.0144, B 0.4²·0.09 = 0.0144, SPY (0 − 1)²·0.01 = 0.01 → TE² = 0.0399
    const te = Math.sqrt(0.0399);
    near(r.trackingError, te);
    near(r.contributions.factors[0]!.contribution, 0.0003 / te);
    near(r.contributions.factors[1]!.contribution, 0.0008 / te);
    const sym = (s: string) => r.contributions.symbols.find((x) => x.symbol === s)!;
    near(sym('A').contribution, 0.0144 / te);
    near(sym('SPY').contribution, 0.01 / te);
    near(sym('SPY').active_weight, -1);
    // m_A = 0.003 + 0.6·0.04 = 0.027 → 0.6·0.027 = 0.0162; m_B = −0.008 + 0.4·0.09 = 0.028 → 0.0112;
    // SPY: m = 0.5·0.003 − 0.5·0.008 − 1·0.01 = −0.0125 → −1·m = 0.0125; 0.0162 + 0.0112 + 0.0125 = 0.0399
    near(r.contributions.positions[0]!.contribution, 0.0162 / te);
    near(r.contributions.positions[1]!.contribution, 0.0112 / te);
    near(r.contributions.benchmark[0]!.contribution, 0.0125 / te);
  });
  it('active return: daily return − the symbol return', () => near(r.activeReturn, 0.007));
});

describe('active numbers against a benchmark portfolio (its §7 weights)', () => {
  // benchmark: A 0.3, B 0.3, SPY 0.4 → x_B = (0.3 + 0.2, 0.3 + 0.2) = (0.5, 0.5); its spread exposure 0.25
  const r = activeNumbers(
    names,
    book,
    {
      exposures: Float64Array.from([0.5, 0.5, 0.25]),
      weights: [
        { positionId: 7, symbol: 'A', weight: 0.3 },
        { positionId: 8, symbol: 'B', weight: 0.3 },
        { positionId: 9, symbol: 'SPY', weight: 0.4 },
      ],
      dailyReturn: 0.004,
    },
    m,
  );
  it('active exposures and return', () => {
    near(r.activeExposures.F1, 0.1);
    near(r.activeExposures.F2, -0.1);
    near(r.activeExposures.Spread, 0.05);
    near(r.activeReturn, 0.008);
  });
  it('tracking error from the active weights A 0.3, B 0.1, SPY −0.4', () => {
    // a = 0.3(1, 0) + 0.1(0, 1) − 0.4(0.5, 0.5) = (0.1, −0.1): aᵀΣa = 0.0011
    // specific: 0.09·0.04 + 0.01·0.09 + 0.16·0.01 = 0.0036 + 0.0009 + 0.0016 → TE² = 0.0072
    const te = Math.sqrt(0.0072);
    near(r.trackingError, te);
    // m_A = 0.003 + 0.3·0.04 = 0.015, m_B = −0.008 + 0.1·0.09 = 0.001, m_SPY = −0.0025 − 0.4·0.01 = −0.0065
    // positions: 0.6·0.015 = 0.009, 0.4·0.001 = 0.0004; benchmark: −0.3·0.015, −0.3·0.001, 0.4·0.0065
    near(r.contributions.positions[0]!.contribution, 0.009 / te);
    near(r.contributions.positions[1]!.contribution, 0.0004 / te);
    const b = Object.fromEntries(r.contributions.benchmark.map((x) => [x.symbol, x.contribution]));
    near(b.A, -0.0045 / te);
    near(b.B, -0.0003 / te);
    near(b.SPY, 0.0026 / te);
    const all = [...r.contributions.positions, ...r.contributions.benchmark].reduce(
      (s, c) => s + c.contribution,
      0,
    );
    near(all, te);
  });
  it('a benchmark without a risk model reading has no tracking error', () => {
    const x = activeNumbers(
      names,
      book,
      {
        exposures: Float64Array.from([0, 0, 0]),
        weights: [{ positionId: 0, symbol: 'NOPE', weight: 1 }],
        dailyReturn: null,
      },
      m,
    );
    assert.equal(x.trackingError, null);
    assert.equal(x.activeReturn, null);
  });
});

describe('limits (METHODOLOGY.md 15)', () => {
  const limit = (l: Partial<Limit> & Pick<Limit, 'metric'>): Limit => ({
    id: 1,
    portfolio_id: 9,
    name: 'x',
    factor: null,
    method: null,
    confidence: null,
    lower: null,
    upper: null,
    ...l,
  });
  const inputs: LimitInputs = {
    exposures: { Value: 0.8 },
    activeExposures: { Value: -0.2 },
    totalRisk: 0.15,
    trackingError: 0.05,
    var: { parametric: { var_95: 1000, var_99: 1500 }, historical: { var_95: 1100, var_99: 2000 } },
    weights: [0.3, -0.45, null],
  };
  it('the value each metric reads', () => {
    assert.equal(limitValue(limit({ metric: 'exposure', factor: 'Value' }), inputs), 0.8);
    assert.equal(limitValue(limit({ metric: 'active_exposure', factor: 'Value' }), inputs), -0.2);
    assert.equal(limitValue(limit({ metric: 'var', method: 'historical', confidence: 0.99 }), inputs), 2000);
    assert.equal(limitValue(limit({ metric: 'max_position_weight' }), inputs), 0.45, 'the largest |w|');
    assert.equal(limitValue(limit({ metric: 'exposure', factor: 'Growth' }), inputs), null);
  });
  it('breached strictly outside [lower, upper]; a bound equal to the value is not a breach', () => {
    const b = checkLimits(
      [
        limit({ id: 1, metric: 'total_risk', upper: 0.15 }),
        limit({ id: 2, metric: 'total_risk', upper: 0.1 }),
        limit({ id: 3, metric: 'active_exposure', factor: 'Value', lower: -0.1, upper: 0.1 }),
        limit({ id: 4, metric: 'tracking_error', lower: 0.06 }),
        limit({ id: 5, metric: 'exposure', factor: 'Growth', upper: 0 }),
      ],
      inputs,
    );
    assert.deepEqual(
      b.map((x) => [x.limit_id, x.value]),
      [
        [2, 0.15],
        [3, -0.2],
        [4, 0.05],
      ],
    );
  });
});

describe('benchmark order', () => {
  it('a benchmark portfolio comes before the portfolios that use it', () => {
    const order = benchmarkOrder(
      new Map([
        [1, 3],
        [2, null],
        [3, 2],
      ]),
    );
    assert.deepEqual(order, [2, 3, 1]);
  });
  it('a cycle is refused, naming its portfolios', () => {
    assert.throws(
      () =>
        benchmarkOrder(
          new Map([
            [1, 2],
            [2, 3],
            [3, 1],
          ]),
        ),
      (e: unknown) => e instanceof BenchmarkCycleError && e.cycle.join(',') === '1,2,3,1',
    );
  });
});
