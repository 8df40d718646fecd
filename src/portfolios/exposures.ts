import type { PositionValue } from './valuation.ts';

/**
 * Portfolio factor exposure (METHODOLOGY.md 7): exposure_f = Σ weight_i × beta_(i, f), with
 * weight_i = delta-adjusted dollar exposure_i / equity, and dollar exposure_f = exposure_f × equity.
 * A position without a beta for f (or without a price) contributes 0 and is listed as missing for f.
 *
 * Example: equity 1,000; long 10 × 50 of A (beta 1.2) and short 5 × 40 of B (beta 0.8):
 * weights 0.5 and −0.2, exposure 0.5·1.2 − 0.2·0.8 = 0.44, dollar exposure 440.
 */
export interface MissingBeta {
  positionId: number;
  symbol: string;
}

export interface PortfolioExposure {
  /** Per factor, in the model's order. */
  exposure: Float64Array;
  dollar: Float64Array;
  /** Per factor, the positions that had no beta (or no price) for it. */
  missing: MissingBeta[][];
}

/** `betas(position)` gives one value per factor (NaN where there is none), or undefined. */
export function portfolioExposure(
  values: readonly PositionValue[],
  betas: (v: PositionValue) => Float64Array | undefined,
  factorCount: number,
  equity: number,
): PortfolioExposure {
  const dollar = new Float64Array(factorCount);
  const missing: MissingBeta[][] = Array.from({ length: factorCount }, () => []);
  for (const v of values) {
    if (v.expired) continue;
    const b = betas(v);
    for (let f = 0; f < factorCount; f++) {
      const beta = b?.[f];
      if (v.exposure === null || beta === undefined || Number.isNaN(beta)) {
        missing[f]!.push({ positionId: v.positionId, symbol: v.symbol });
      } else {
        dollar[f]! += v.exposure * beta;
      }
    }
  }
  return { exposure: dollar.map((d) => d / equity), dollar, missing };
}
