import type { QualityFlag } from '../db/schema.ts';
import { olsWithIntercept } from '../math/ols.ts';
import { prepareRidge, ridgeFit, type PreparedRidge } from '../math/ridge.ts';
import { capAndFlag, ridgeFactors, type FactorDef, type FactorModel } from './model.ts';
import { row, windowRange, type ReturnsPanel } from './panel.ts';

/**
 * Computes every factor beta of the model for many symbols on one date, universe-first: the ridge
 * design of the window is prepared once and applied to every symbol observed on all its days; only
 * symbols with gaps (late listing, missing days) get a design of their own. Pure: no I/O.
 */

export interface BetaResult {
  symbol: string;
  factorId: number;
  beta: number;
  /** null where R² is undefined (a flat series). */
  rSquared: number | null;
  observations: number;
  qualityFlag: QualityFlag;
}

/**
 * `degenerate_factor`: the regressor (a proxy or a spread) does not vary over the sample.
 * `degenerate_series`: the symbol's own series cannot be regressed, e.g. a bad tick whose return is
 * not finite (a close of 1e-300 followed by 1e300), so its fit would come out NaN. Either is that
 * symbol's recorded outcome; it never fails the write of the symbols batched with it.
 */
export type SkipReason =
  'insufficient_observations' | 'missing_proxy' | 'degenerate_factor' | 'degenerate_series';

/** A (symbol, factor) with no beta, and why. */
export interface BetaSkip {
  symbol: string;
  factorId: number;
  reason: SkipReason;
  observations: number;
}

/**
 * A symbol's specific (idiosyncratic) volatility, METHODOLOGY.md 10: from the residuals of its ridge
 * fit over its n sample days, `sqrt(252 × Σ e² / (n − 1))`, annualised.
 */
export interface SpecificResult {
  symbol: string;
  specificVol: number;
  observations: number;
}

export interface EngineOutput {
  date: string;
  results: BetaResult[];
  skips: BetaSkip[];
  /** One per symbol with a ridge result (computed in the same pass, from the same operator). */
  specific: SpecificResult[];
}

/** Trading days per year: annualises daily variances. */
export const TRADING_DAYS_PER_YEAR = 252;

/**
 * @param end index in `panel.dates` of the calculation date (a trading day)
 * @param symbols indices in `panel.symbols` to compute
 */
export function computeBetas(
  panel: ReturnsPanel,
  model: FactorModel,
  end: number,
  symbols: readonly number[],
): EngineOutput {
  const out: EngineOutput = { date: panel.dates[end]!, results: [], skips: [], specific: [] };
  const index = new Map(panel.symbols.map((s, i) => [s, i]));
  computeRidge(panel, model, end, symbols, index, out);
  for (const f of model.factors) {
    if (f.method === 'ridge_regression') continue;
    computeUnivariate(panel, model, f, end, symbols, index, out);
  }
  return out;
}

function skip(
  out: EngineOutput,
  symbol: string,
  f: FactorDef,
  reason: SkipReason,
  observations: number,
): void {
  out.skips.push({ symbol, factorId: f.id, reason, observations });
}

function skipAll(
  out: EngineOutput,
  panel: ReturnsPanel,
  symbols: readonly number[],
  factors: FactorDef[],
  reason: SkipReason,
): void {
  for (const s of symbols) for (const f of factors) skip(out, panel.symbols[s]!, f, reason, 0);
}

/** Caps, flags and records one estimate; a NaN R² (flat series) is stored as null. */
function record(
  out: EngineOutput,
  model: FactorModel,
  symbol: string,
  f: FactorDef,
  rawBeta: number,
  r2: number,
  observations: number,
  windowTradingDays: number,
): void {
  const { beta, flag } = capAndFlag(rawBeta, observations, windowTradingDays, model.settings);
  out.results.push({
    symbol,
    factorId: f.id,
    beta,
    rSquared: Number.isNaN(r2) ? null : r2,
    observations,
    qualityFlag: flag,
  });
}

/** Finite betas and an R² that is either NaN (flat series, stored null) or within [0, 1]. */
function fitIsFinite(betas: ArrayLike<number>, r2: number): boolean {
  for (let j = 0; j < betas.length; j++) if (!Number.isFinite(betas[j]!)) return false;
  return Number.isNaN(r2) || (r2 >= 0 && r2 <= 1);
}

function computeRidge(
  panel: ReturnsPanel,
  model: FactorModel,
  end: number,
  symbols: readonly number[],
  index: Map<string, number>,
  out: EngineOutput,
): void {
  const factors = ridgeFactors(model);
  if (factors.length === 0) return;
  const { windowDays, minObservations } = factors[0]!;
  const proxyRows = factors.map((f) => index.get(f.longProxy));
  if (proxyRows.some((r) => r === undefined)) return skipAll(out, panel, symbols, factors, 'missing_proxy');
  const proxies = proxyRows.map((r) => row(panel, r!));
  const k = factors.length;
  const [from, to] = windowRange(panel, end, windowDays);
  const windowTradingDays = to - from;

  // Days of the window on which every proxy has a return: the design shared by complete symbols.
  const days: number[] = [];
  for (let t = from; t < to; t++) if (proxies.every((p) => !Number.isNaN(p[t]!))) days.push(t);
  const design = (ts: readonly number[]) => {
    const x = new Float64Array(ts.length * k);
    ts.forEach((t, i) => proxies.forEach((p, j) => (x[i * k + j] = p[t]!)));
    return x;
  };
  const alpha = model.settings.ridgeAlpha;
  let common: PreparedRidge | null | undefined;

  const betas = new Float64Array(k);
  const residual = { ssr: 0 };
  const y = new Float64Array(days.length);
  for (const s of symbols) {
    const r = row(panel, s);
    let n = 0;
    let finite = true;
    for (const t of days) {
      const v = r[t]!;
      if (Number.isNaN(v)) continue;
      if (!Number.isFinite(v)) finite = false;
      y[n++] = v;
    }
    if (n < minObservations) {
      for (const f of factors) skip(out, panel.symbols[s]!, f, 'insufficient_observations', n);
      continue;
    }
    let prepared: PreparedRidge | null;
    if (n === days.length) {
      prepared = common === undefined ? (common = prepareRidge(design(days), n, k, alpha)) : common;
    } else {
      prepared = prepareRidge(design(days.filter((t) => !Number.isNaN(r[t]!))), n, k, alpha);
    }
    if (!finite) {
      for (const f of factors) skip(out, panel.symbols[s]!, f, 'degenerate_series', n);
      continue;
    }
    if (!prepared) {
      for (const f of factors) skip(out, panel.symbols[s]!, f, 'degenerate_factor', n);
      continue;
    }
    const r2 = ridgeFit(prepared, y.subarray(0, n), betas, residual);
    if (!fitIsFinite(betas, r2)) {
      for (const f of factors) skip(out, panel.symbols[s]!, f, 'degenerate_series', n);
      continue;
    }
    factors.forEach((f, j) => record(out, model, panel.symbols[s]!, f, betas[j]!, r2, n, windowTradingDays));
    out.specific.push({
      symbol: panel.symbols[s]!,
      specificVol: Math.sqrt((TRADING_DAYS_PER_YEAR * residual.ssr) / (n - 1)),
      observations: n,
    });
  }
}

/** A spread (long − short) or the market: one OLS per symbol on one regressor. */
function computeUnivariate(
  panel: ReturnsPanel,
  model: FactorModel,
  f: FactorDef,
  end: number,
  symbols: readonly number[],
  index: Map<string, number>,
  out: EngineOutput,
): void {
  const longRow = index.get(f.longProxy);
  const shortRow = f.shortProxy === null ? undefined : index.get(f.shortProxy);
  if (longRow === undefined || (f.shortProxy !== null && shortRow === undefined)) {
    return skipAll(out, panel, symbols, [f], 'missing_proxy');
  }
  const [from, to] = windowRange(panel, end, f.windowDays);
  const x = new Float64Array(panel.dates.length).fill(NaN);
  const long = row(panel, longRow);
  const short = shortRow === undefined ? undefined : row(panel, shortRow);
  for (let t = from; t < to; t++) x[t] = short ? long[t]! - short[t]! : long[t]!;

  for (const s of symbols) {
    const fit = olsWithIntercept(x, row(panel, s), from, to);
    const symbol = panel.symbols[s]!;
    if (fit.n < f.minObservations) skip(out, symbol, f, 'insufficient_observations', fit.n);
    else if (!fit.defined) skip(out, symbol, f, 'degenerate_factor', fit.n);
    else if (!fitIsFinite([fit.beta], fit.r2)) skip(out, symbol, f, 'degenerate_series', fit.n);
    else record(out, model, symbol, f, fit.beta, fit.r2, fit.n, to - from);
  }
}
