import { bilinear, matVec, pseudoSolve } from '../math/dense.ts';

/**
 * Hedges of a portfolio's factor exposure (beyond METHODOLOGY.md, built on 10). Pure.
 *
 * Factor hedge: with B the k×m matrix of the hedge ETFs' own betas (one column per ETF) and h their
 * weights (notional / equity), minimise the factor variance (x + B h)ᵀ Σ (x + B h). The normal
 * equations (BᵀΣB) h = −BᵀΣx have many solutions when there are more ETFs than factors (7 for 6);
 * the one of least norm is taken (pseudo-inverse). Since h = −(BᵀΣB)⁺BᵀΣ x is linear in x, the
 * operator is formed once per run (`hedgeOperator`).
 *
 * Market hedge: the model's beta of the portfolio to the market ETF M is
 * β = (xᵀΣβ_M + v_M σ_M²) / (β_MᵀΣβ_M + σ_M²); adding h of M raises it by h, so h = −β × equity.
 *
 * Example (one factor, Σ = [0.04], one ETF with beta 2, x = 0.5): BᵀΣB = 0.16, BᵀΣx = 0.04,
 * h = −0.25 (notional −0.25 × equity), factor risk after 0.
 */
export interface HedgeResult {
  factorRiskBefore: number;
  factorRiskAfter: number;
  etfs: { symbol: string; notional: number }[];
  /** Null when the market ETF has no betas or specific volatility. */
  marketHedge: { symbol: string; notional: number; beta: number } | null;
}

/**
 * The hedge operator of a day: h = −K x with K = (BᵀΣB)⁺ BᵀΣ (m×k). It depends only on the ETFs'
 * betas and Σ, so a run forms it once and each portfolio's hedge is one small product.
 */
export interface HedgeOperator {
  etfs: readonly { symbol: string; betas: Float64Array }[];
  k: number;
  /** m×k row-major. */
  K: Float64Array;
}

export function hedgeOperator(
  covariance: Float64Array,
  etfs: readonly { symbol: string; betas: Float64Array }[],
  k: number,
): HedgeOperator {
  const m = etfs.length;
  const sb = etfs.map((e) => matVec(covariance, k, k, e.betas)); // Σ b_e
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let f = 0; f < k; f++) s += etfs[i]!.betas[f]! * sb[j]![f]!;
      a[i * m + j] = s;
    }
  // column f of K = (BᵀΣB)⁺ (BᵀΣ)_(·, f), with (BᵀΣ)_(i, f) = (Σ b_i)_f
  const K = new Float64Array(m * k);
  for (let f = 0; f < k; f++) {
    const col = pseudoSolve(
      a,
      m,
      sb.map((v) => v[f]!),
    );
    for (let i = 0; i < m; i++) K[i * k + f] = col[i]!;
  }
  return { etfs, k, K };
}

export function factorHedge(
  x: Float64Array,
  covariance: Float64Array,
  op: HedgeOperator,
  equity: number,
): Pick<HedgeResult, 'factorRiskBefore' | 'factorRiskAfter' | 'etfs'> {
  const { k, K, etfs } = op;
  const before = Math.sqrt(Math.max(0, bilinear(covariance, k, x, x)));
  const h = matVec(K, etfs.length, k, x);
  const after = Float64Array.from(x);
  etfs.forEach((e, i) => {
    h[i] = -h[i]!;
    for (let f = 0; f < k; f++) after[f]! += h[i]! * e.betas[f]!;
  });
  return {
    factorRiskBefore: before,
    factorRiskAfter: Math.sqrt(Math.max(0, bilinear(covariance, k, after, after))),
    etfs: etfs.map((e, i) => ({ symbol: e.symbol, notional: h[i]! * equity })),
  };
}

/** The market ETF notional that zeroes the portfolio's predicted beta to it. */
export function marketHedge(
  x: Float64Array,
  covariance: Float64Array,
  market: { symbol: string; betas: Float64Array; specificVol: number; weight: number },
  equity: number,
): { symbol: string; notional: number; beta: number } {
  const k = x.length;
  const varM = bilinear(covariance, k, market.betas, market.betas) + market.specificVol ** 2;
  const cov = bilinear(covariance, k, x, market.betas) + market.weight * market.specificVol ** 2;
  const beta = varM > 0 ? cov / varM : 0;
  return { symbol: market.symbol, notional: -beta * equity, beta };
}
