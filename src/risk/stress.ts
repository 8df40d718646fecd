import { pseudoSolve, solveSpd, submatrix } from '../math/dense.ts';
import type { Scenario } from './scenarios.ts';

/**
 * Stress tests (METHODOLOGY.md 12). Pure.
 *
 * A shock scenario fixes the returns s of some of the seven proxies; correlated, every other proxy u
 * takes E[u | s] = Σ_us Σ_ss⁻¹ s (Σ the stored 7×7 proxy covariance), uncorrelated it moves 0. The six
 * ridge factors move with their proxies, and a symbol's return is R_s = Σ_j β_(s,j) f_j. A historical
 * scenario uses every proxy's actual return over its window, and a symbol's own actual return where
 * both closes exist (else R_s). A position loses `exposure × R + ½ × size × Γ × S² × R²` (delta-gamma;
 * a stock's exposure is its market value and it has no Γ).
 *
 * Example: identity covariance, SPY shocked −10%: E[u | s] = 0 for every other proxy, exactly the
 * uncorrelated answer.
 */
export interface StressModel {
  /** The seven proxies, the order of `proxyCovariance`. */
  proxies: readonly string[];
  proxyCovariance: Float64Array;
  /** The proxy of each ridge factor, the order of the betas. */
  factorProxies: readonly string[];
}

export interface ResolvedScenario {
  name: string;
  kind: 'shock' | 'historical';
  status: 'applied' | 'not_applicable';
  reason?: string;
  /** Every proxy's move (the given shocks and, correlated, the implied ones). */
  shocks: Record<string, number>;
  /** The move of each ridge factor, in beta order. */
  factorMoves: Float64Array;
  /** A historical window's actual symbol returns. */
  actual?: ReadonlyMap<string, number>;
}

/**
 * All proxies' moves given the shocked ones: Σ_(·,s) Σ_ss⁻¹ s. The shocked rows come back as the
 * shocks themselves (to rounding), the others as their conditional expectation.
 */
export function conditionalMoves(
  cov: Float64Array,
  k: number,
  shocked: readonly number[],
  values: ArrayLike<number>,
): Float64Array {
  const css = submatrix(cov, k, shocked, shocked);
  const alpha = solveSpd(css, shocked.length, values) ?? pseudoSolve(css, shocked.length, values);
  const all = Array.from({ length: k }, (_, i) => i);
  const cas = submatrix(cov, k, all, shocked);
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < shocked.length; j++) s += cas[i * shocked.length + j]! * alpha[j]!;
    out[i] = s;
  }
  return out;
}

function notApplicable(s: Scenario, reason: string, k: number): ResolvedScenario {
  return {
    name: s.name,
    kind: s.kind,
    status: 'not_applicable',
    reason,
    shocks: {},
    factorMoves: new Float64Array(k),
  };
}

function factorMovesOf(m: StressModel, moves: Record<string, number>): Float64Array {
  return Float64Array.from(m.factorProxies, (p) => moves[p] ?? 0);
}

/** A shock scenario's proxy and factor moves. */
export function resolveShock(s: Extract<Scenario, { kind: 'shock' }>, m: StressModel): ResolvedScenario {
  const k = m.factorProxies.length;
  const shocked = m.proxies.flatMap((p, i) => (p in s.shocks ? [i] : []));
  if (shocked.length === 0) {
    const named = Object.keys(s.shocks).join(', ');
    return notApplicable(
      s,
      `it shocks only ${named}: none of the model's proxies (${m.proxies.join(', ')})`,
      k,
    );
  }
  const moves: Record<string, number> = {};
  if (s.correlated) {
    const values = shocked.map((i) => s.shocks[m.proxies[i]!]!);
    const all = conditionalMoves(m.proxyCovariance, m.proxies.length, shocked, values);
    m.proxies.forEach((p, i) => (moves[p] = all[i]!));
  } else m.proxies.forEach((p) => (moves[p] = 0));
  for (const i of shocked) moves[m.proxies[i]!] = s.shocks[m.proxies[i]!]!;
  const factorMoves = factorMovesOf(m, moves);
  if (factorMoves.every((f) => f === 0))
    return notApplicable(
      s,
      `uncorrelated, a shock to ${shocked.map((i) => m.proxies[i]).join(', ')} moves none of the factors' proxies (${m.factorProxies.join(', ')})`,
      k,
    );
  return { name: s.name, kind: 'shock', status: 'applied', shocks: moves, factorMoves };
}

/**
 * A historical window: `closes(symbol, date)` gives a stored close. Proxies and symbols take their
 * actual return C_end / C_start − 1 where both closes exist.
 */
export function resolveHistorical(
  s: Extract<Scenario, { kind: 'historical' }>,
  m: StressModel,
  symbols: Iterable<string>,
  closes: (symbol: string, date: string) => number | undefined,
): ResolvedScenario {
  const ret = (sym: string) => {
    const a = closes(sym, s.start);
    const b = closes(sym, s.end);
    return a !== undefined && b !== undefined ? b / a - 1 : undefined;
  };
  const moves: Record<string, number> = {};
  for (const p of m.proxies) {
    const r = ret(p);
    if (r !== undefined) moves[p] = r;
  }
  const k = m.factorProxies.length;
  if (!m.factorProxies.some((p) => p in moves))
    return notApplicable(
      s,
      `the store has no closes of the factors' proxies on both ${s.start} and ${s.end}`,
      k,
    );
  const actual = new Map<string, number>();
  for (const sym of symbols) {
    const r = ret(sym);
    if (r !== undefined) actual.set(sym, r);
  }
  return {
    name: s.name,
    kind: 'historical',
    status: 'applied',
    shocks: moves,
    factorMoves: factorMovesOf(m, moves),
    actual,
  };
}

/** A symbol's return in the scenario: its actual one (historical), else Σ_j β_j f_j; undefined without either. */
export function symbolReturn(
  sc: ResolvedScenario,
  symbol: string,
  betas: Float64Array | undefined,
): number | undefined {
  const a = sc.actual?.get(symbol);
  if (a !== undefined) return a;
  if (!betas || betas.some((b) => Number.isNaN(b))) return undefined;
  let r = 0;
  for (let j = 0; j < sc.factorMoves.length; j++) r += betas[j]! * sc.factorMoves[j]!;
  return r;
}

export interface StressPosition {
  symbol: string;
  /** Delta-adjusted dollar exposure; null without a price (then it is left out). */
  exposure: number | null;
  /** size × Γ × S² of an option (0 for a stock): the delta-gamma term's dollar gamma. */
  dollarGamma: number;
}

/** Scenario P&L of a portfolio, with `moves(symbol)` the symbol's scenario return. */
export function stressPnl(
  positions: readonly StressPosition[],
  moves: (symbol: string) => number | undefined,
): { pnl: number; missing: number } {
  let pnl = 0;
  let missing = 0;
  for (const p of positions) {
    const r = p.exposure === null ? undefined : moves(p.symbol);
    if (r === undefined) {
      missing++;
      continue;
    }
    pnl += p.exposure! * r + 0.5 * p.dollarGamma * r * r;
  }
  return { pnl, missing };
}
