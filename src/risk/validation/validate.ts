import { backtest, biasStatistic, median, TRADING_DAYS, type Backtest, type BiasResult } from './stats.ts';

/**
 * Risk forecast validation (METHODOLOGY.md 14), pure: forecasts stored as of `prev(t)` against the
 * outcomes of `t`, over the window's trading days. Every input is laid out on one calendar
 * `dates[0..K)` (trading days, oldest first, NaN where nothing is stored); the window is its last
 * `min(T, K)` days and `prev(k) = k − 1`, so the calendar's first day, when it is in the window, has
 * no forecast and is skipped. A day without both forecast and outcome is skipped and counted.
 *
 * Example (six days d0…d5, T = 5, a factor variance forecast of 0.0252 a year, i.e. σ_1d =
 * sqrt(0.0252 / 252) = 0.01, stored as of every day but d2): the window is d1…d5; d3, whose
 * forecast would be d2's, is skipped; z = (r1, r2, r4, r5) / 0.01 over n = 4 days, 1 skipped.
 */

/** The first window index of a calendar of K days for a window of T days. */
export const windowStart = (K: number, T: number): number => Math.max(0, K - T);

/**
 * z_k = outcome_k / scale_(k−1) on the window days k ∈ [first, K): NaN where the outcome or the
 * previous day's scale is missing, or the scale is not positive (a zero-risk forecast cannot be
 * scored). Returns K − first entries.
 */
export function alignedZ(
  outcome: ArrayLike<number>,
  scale: ArrayLike<number>,
  first: number,
  K: number,
): Float64Array {
  const z = new Float64Array(K - first).fill(NaN);
  for (let k = Math.max(first, 1); k < K; k++) {
    const o = outcome[k]!;
    const s = scale[k - 1]!;
    if (!Number.isNaN(o) && s > 0) z[k - first] = o / s;
  }
  return z;
}

/** Usable = not NaN. */
export function countUsable(z: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < z.length; i++) if (!Number.isNaN(z[i]!)) n++;
  return n;
}

export interface FactorInputs {
  dates: string[];
  factors: string[];
  /** Σ_jj as stored (annualised) as of each date: `variance[k * J + j]`. */
  variance: Float64Array;
  /** Factor j's return on each date (its proxy's): `returns[k * J + j]`. */
  returns: Float64Array;
}

/** Column j of a row-major K × J matrix. */
function column(m: Float64Array, K: number, J: number, j: number): Float64Array {
  const c = new Float64Array(K);
  for (let k = 0; k < K; k++) c[k] = m[k * J + j]!;
  return c;
}

/** σ_1d = sqrt(Σ_jj / 252) of each date. */
function dailyScale(variance: Float64Array): Float64Array {
  return variance.map((v) => (v > 0 ? Math.sqrt(v / TRADING_DAYS) : NaN));
}

/** Each factor's z-scores on the window days: z_t = f_(j,t) / sqrt(Σ_jj(prev t) / 252). */
export function factorZ(x: FactorInputs, T: number): Float64Array[] {
  const K = x.dates.length;
  const J = x.factors.length;
  const first = windowStart(K, T);
  return x.factors.map((_, j) =>
    alignedZ(column(x.returns, K, J, j), dailyScale(column(x.variance, K, J, j)), first, K),
  );
}

export interface FactorBias extends BiasResult {
  factor: string;
  /** Window days skipped for want of a forecast or an outcome. */
  skipped: number;
}

/** The factor bias statistics of the window ending at the calendar's last day. */
export function factorBias(x: FactorInputs, T: number): FactorBias[] {
  return factorZ(x, T).map((z, j) => {
    const b = biasStatistic(z);
    return { factor: x.factors[j]!, ...b, skipped: z.length - b.n };
  });
}

/**
 * The rolling bias of one z series (one entry per calendar day, NaN = skipped): entry e is the bias
 * over the `window` days ending at e; null until a full window has passed, and null when fewer than
 * `minUsable` of its days are usable (a 60-day bias from three days is noise, not a forecast check).
 */
export function rollingBias(z: ArrayLike<number>, window: number, minUsable = 2): (number | null)[] {
  const out: (number | null)[] = [];
  for (let e = 0; e < z.length; e++) {
    if (e + 1 < window) {
      out.push(null);
      continue;
    }
    const b = biasStatistic(Array.prototype.slice.call(z, e + 1 - window, e + 1) as number[]);
    out.push(b.n >= minUsable ? b.bias : null);
  }
  return out;
}

export interface SymbolForecasts {
  /** The six ridge betas as of each date: `betas[k * J + j]`, NaN where none. */
  betas: Float64Array;
  /** Specific volatility (annualised) as of each date, NaN where none. */
  specificVol: Float64Array;
  /** The symbol's return on each date, NaN where none. */
  returns: ArrayLike<number>;
}

/**
 * A symbol's specific z-scores over the window: e_t = r_(s,t) − Σ_j β_(s,j)(prev t) f_(j,t) (no
 * intercept), z_t = e_t / (σ_s(prev t) / sqrt(252)). A day lacking any of these is skipped.
 * `factorReturns` is the calendar's K × J factor return matrix.
 */
export function specificZ(
  s: SymbolForecasts,
  factorReturns: Float64Array,
  J: number,
  first: number,
  K: number,
  out: Float64Array = new Float64Array(K - first),
): Float64Array {
  out.fill(NaN);
  const root = Math.sqrt(TRADING_DAYS);
  for (let k = Math.max(first, 1); k < K; k++) {
    const r = s.returns[k]!;
    const vol = s.specificVol[k - 1]!;
    if (Number.isNaN(r) || !(vol > 0)) continue;
    let e = r;
    for (let j = 0; j < J; j++) e -= s.betas[(k - 1) * J + j]! * factorReturns[k * J + j]!;
    if (!Number.isNaN(e)) out[k - first] = e / (vol / root);
  }
  return out;
}

export interface SpecificSummary {
  median_bias: number | null;
  share_within_band: number | null;
  /** Symbols with at least 2 usable days (those counted). */
  symbols: number;
}

/** The median bias over the symbols with n ≥ 2 and the share of them inside their own band. */
export function specificSummary(results: readonly BiasResult[]): SpecificSummary {
  const counted = results.filter((r) => r.bias !== null);
  if (counted.length === 0) return { median_bias: null, share_within_band: null, symbols: 0 };
  return {
    median_bias: median(counted.map((r) => r.bias!)),
    share_within_band: counted.filter((r) => r.within_band).length / counted.length,
    symbols: counted.length,
  };
}

export type VarMethod = 'parametric' | 'historical';
export const VAR_METHODS: readonly VarMethod[] = ['parametric', 'historical'];
export const VAR_CONFIDENCES = [0.95, 0.99] as const;

export interface PortfolioInputs {
  dates: string[];
  /** Outcomes of each date: the day's P&L (dollars) and return (§8); NaN where none. */
  pnl: Float64Array;
  dailyReturn: Float64Array;
  /** Forecasts as of each date: total risk σ (annualised, of equity), NaN where none. */
  totalRisk: Float64Array;
  /** VaR (dollars, loss positive) as of each date, by `${method} ${confidence}`. */
  var: Record<`${VarMethod} ${VarConfidence}`, Float64Array>;
}

export type VarConfidence = (typeof VAR_CONFIDENCES)[number];

export interface VarBacktest extends Backtest {
  method: VarMethod;
  confidence: VarConfidence;
}

export interface VarException {
  date: string;
  method: VarMethod;
  confidence: VarConfidence;
  loss: number;
  var: number;
}

export interface PortfolioValidation {
  bias: BiasResult & { skipped: number };
  var_backtests: VarBacktest[];
  exceptions: VarException[];
}

/**
 * A portfolio's bias (z_t = daily_return_t / (σ(prev t) / sqrt(252))) and VaR backtests
 * (I_t = 1 when −daily_pnl_t > VaR_c(prev t)), each of parametric/historical × 95%/99%, over the
 * window; exceptions listed oldest first.
 */
export function validatePortfolio(x: PortfolioInputs, T: number): PortfolioValidation {
  const K = x.dates.length;
  const first = windowStart(K, T);
  const root = Math.sqrt(TRADING_DAYS);
  const z = alignedZ(
    x.dailyReturn,
    x.totalRisk.map((s) => s / root),
    first,
    K,
  );
  const b = biasStatistic(z);
  const var_backtests: VarBacktest[] = [];
  const exceptions: VarException[] = [];
  for (const method of VAR_METHODS)
    for (const confidence of VAR_CONFIDENCES) {
      const forecast = x.var[`${method} ${confidence}`];
      const hits: number[] = [];
      for (let k = Math.max(first, 1); k < K; k++) {
        const loss = -x.pnl[k]!;
        const v = forecast[k - 1]!;
        if (Number.isNaN(loss) || Number.isNaN(v)) continue;
        const hit = loss > v ? 1 : 0;
        hits.push(hit);
        if (hit) exceptions.push({ date: x.dates[k]!, method, confidence, loss, var: v });
      }
      var_backtests.push({ method, confidence, ...backtest(hits, confidence) });
    }
  exceptions.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { bias: { ...b, skipped: z.length - b.n }, var_backtests, exceptions };
}
