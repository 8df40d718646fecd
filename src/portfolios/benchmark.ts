import { matVec } from '../math/dense.ts';
import type { RiskLookup } from '../risk/portfolio.ts';

/**
 * Benchmark-relative (active) numbers of a portfolio on D (METHODOLOGY.md 15). Pure.
 *
 * The benchmark is a symbol held at weight 1 or another portfolio (its §7 weights). With x the
 * portfolio's exposures and x_B the benchmark's: active exposure a = x − x_B (every factor of the
 * model, the descriptive spreads and market beta too). Active risk over the six risk factors, as §10's
 * tracking error: with v_s the portfolio's summed weight on symbol s and b_s the benchmark's,
 * a_R = Σ_s (v_s − b_s) β_s, TE = sqrt(a_Rᵀ Σ a_R + Σ_s (v_s − b_s)² σ_s²). Active return on D:
 * daily_return − r_B,D.
 *
 * Contributions (Euler, each set sums to TE): factor j `a_j (Σa)_j / TE`; specific of symbol s
 * `(v_s − b_s)² σ_s² / TE`; position i of the portfolio on symbol s `w_i m_s / TE` and the benchmark's
 * holding of s `−b_s m_s / TE`, with the marginal `m_s = β_sᵀ Σ a + (v_s − b_s) σ_s²`.
 *
 * Worked example (test/benchmark-active.test.ts): Σ = [[0.04, 0.01], [0.01, 0.09]], A: w 0.6, β (1, 0),
 * σ 0.2; B: w 0.4, β (0, 1), σ 0.3; benchmark SPY, β (0.5, 0.5), σ 0.1: a = (0.1, −0.1),
 * aᵀΣa = 0.0011, specific 0.0144 + 0.0144 + 0.01, TE = sqrt(0.0399).
 */

export type BenchmarkRef = { symbol: string } | { portfolio_id: number };

/** A book as the active numbers need it: weights by position (with the symbol whose betas apply). */
export interface Book {
  positions: readonly { positionId: number; symbol: string; weight: number | null }[];
  /** The model's exposures (every factor, model order); NaN where unknown. */
  exposures: Float64Array;
  dailyReturn: number | null;
}

export interface ActiveNumbers {
  /** Per model factor name: x − x_B; null where either side is unknown. */
  activeExposures: Record<string, number | null>;
  trackingError: number | null;
  activeReturn: number | null;
  contributions: {
    factors: { factor: string; active_exposure: number; contribution: number }[];
    symbols: { symbol: string; active_weight: number; contribution: number }[];
    positions: { position_id: number; symbol: string; weight: number; contribution: number }[];
    benchmark: { symbol: string; weight: number; contribution: number }[];
  };
}

/** The symbols of a book and its benchmark that the risk model counts, each resolved once. */
interface Resolved {
  index: Map<string, number>;
  symbols: string[];
  betas: Float64Array[];
  variance: number[];
  /** Σ weights of the book (v_s) and of the benchmark (b_s), 0 where a side does not hold s. */
  v: number[];
  b: number[];
  inBook: boolean[];
  inBench: boolean[];
  /** Indexes of the benchmark's symbols in the order it holds them. */
  held: number[];
}

/**
 * Summed weights per symbol (the book's symbols first, in book order, then the benchmark's own),
 * each symbol's betas and specific variance looked up once: the stage calls this for every
 * portfolio, and repeated string-keyed lookups per position were most of its cost.
 */
function resolve(book: Book['positions'], bench: Book['positions'], m: RiskLookup): Resolved {
  const r: Resolved = {
    index: new Map(),
    symbols: [],
    betas: [],
    variance: [],
    v: [],
    b: [],
    inBook: [],
    inBench: [],
    held: [],
  };
  const add = (positions: Book['positions'], side: 'v' | 'b') => {
    for (const p of positions) {
      if (p.weight === null) continue;
      let i = r.index.get(p.symbol);
      if (i === undefined) {
        const beta = m.betas(p.symbol);
        if (beta === undefined || beta.some(Number.isNaN)) continue;
        const sv = m.specificVol(p.symbol);
        if (sv === undefined) continue;
        i = r.symbols.length;
        r.index.set(p.symbol, i);
        r.symbols.push(p.symbol);
        r.betas.push(beta);
        r.variance.push(sv ** 2);
        r.v.push(0);
        r.b.push(0);
        r.inBook.push(false);
        r.inBench.push(false);
      }
      if (side === 'v') {
        r.v[i] = r.v[i]! + p.weight;
        r.inBook[i] = true;
      } else {
        if (!r.inBench[i]) r.held.push(i);
        r.b[i] = r.b[i]! + p.weight;
        r.inBench[i] = true;
      }
    }
  };
  add(book, 'v');
  add(bench, 'b');
  return r;
}

export function activeNumbers(
  factorNames: readonly string[],
  book: Book,
  benchmark: { exposures: Float64Array; weights: Book['positions']; dailyReturn: number | null },
  m: RiskLookup,
): ActiveNumbers {
  const activeExposures: Record<string, number | null> = {};
  factorNames.forEach((f, i) => {
    const d = book.exposures[i]! - benchmark.exposures[i]!;
    activeExposures[f] = Number.isFinite(d) ? d : null;
  });
  const activeReturn =
    book.dailyReturn !== null && benchmark.dailyReturn !== null && Number.isFinite(benchmark.dailyReturn)
      ? book.dailyReturn - benchmark.dailyReturn
      : null;

  const r = resolve(book.positions, benchmark.weights, m);
  const n = r.symbols.length;
  const empty = { factors: [], symbols: [], positions: [], benchmark: [] };
  // a benchmark the model cannot count (no betas or specific volatility) has no tracking error
  if (benchmark.weights.some((w) => w.weight !== null) && r.held.length === 0)
    return { activeExposures, trackingError: null, activeReturn, contributions: empty };

  const k = m.factors.length;
  // active weight v_s − b_s, in the order of the symbols (book first, then the benchmark's own)
  const diff = new Float64Array(n);
  for (let i = 0; i < n; i++) diff[i] = r.v[i]! - r.b[i]!;
  const a = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const beta = r.betas[i]!;
    const d = diff[i]!;
    for (let j = 0; j < k; j++) a[j]! += d * beta[j]!;
  }
  const sa = matVec(m.covariance, k, k, a);
  let te2 = 0;
  for (let j = 0; j < k; j++) te2 += a[j]! * sa[j]!;
  for (let i = 0; i < n; i++) te2 += diff[i]! * diff[i]! * r.variance[i]!;
  const te = Math.sqrt(te2);
  const per = (c: number) => (te > 0 ? c / te : 0);
  const marginal = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const beta = r.betas[i]!;
    let x = 0;
    for (let j = 0; j < k; j++) x += beta[j]! * sa[j]!;
    marginal[i] = x + diff[i]! * r.variance[i]!;
  }
  const symbols: ActiveNumbers['contributions']['symbols'] = [];
  for (let i = 0; i < n; i++) {
    const d = diff[i]!;
    symbols.push({ symbol: r.symbols[i]!, active_weight: d, contribution: per(d * d * r.variance[i]!) });
  }
  const held = r.held.map((i) => {
    const w = r.b[i]!;
    return { symbol: r.symbols[i]!, weight: w, contribution: per(-w * marginal[i]!) };
  });
  const positions: ActiveNumbers['contributions']['positions'] = [];
  for (const p of book.positions) {
    if (p.weight === null) continue;
    const i = r.index.get(p.symbol);
    if (i === undefined || !r.inBook[i]) continue;
    positions.push({
      position_id: p.positionId,
      symbol: p.symbol,
      weight: p.weight,
      contribution: per(p.weight * marginal[i]!),
    });
  }
  return {
    activeExposures,
    trackingError: te,
    activeReturn,
    contributions: {
      factors: m.factors.map((factor, j) => ({
        factor,
        active_exposure: a[j]!,
        contribution: per(a[j]! * sa[j]!),
      })),
      symbols,
      positions,
      benchmark: held,
    },
  };
}

/**
 * Portfolios ordered so that each comes after the portfolio it is benchmarked to. Throws a
 * `BenchmarkCycleError` naming the portfolios of a cycle.
 */
export class BenchmarkCycleError extends Error {
  constructor(readonly cycle: number[]) {
    super(`benchmarks form a cycle: portfolios ${cycle.join(' → ')}`);
  }
}

export function benchmarkOrder(edges: ReadonlyMap<number, number | null>): number[] {
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (id: number, path: number[]) => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') throw new BenchmarkCycleError([...path.slice(path.indexOf(id)), id]);
    state.set(id, 'visiting');
    const next = edges.get(id);
    if (next !== null && next !== undefined && edges.has(next)) visit(next, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of [...edges.keys()].sort((x, y) => x - y)) visit(id, []);
  return order;
}
