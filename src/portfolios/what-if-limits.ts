import type pg from 'pg';
import type { FactorModel } from '../factors/model.ts';
import type { RiskDay } from '../risk/report.ts';
import { limitInputs } from './active-stage.ts';
import { loadLimitsOf } from './benchmark-store.ts';
import { limitStates, readBenchmark, storedLimitInputs, type LimitState } from './limits-repo.ts';
import { loadSymbolBetas, type PortfolioDay } from './store.ts';

/**
 * Which of a portfolio's limits a proposed book (a what-if) would breach on D (METHODOLOGY.md 15).
 * Active exposures are taken against the portfolio's benchmark: a symbol's betas, or the benchmark
 * portfolio's stored exposures of D. The tracking error is the what-if report's own (§10, to the
 * configured benchmark) and so is evaluated only when the portfolio's benchmark is that symbol;
 * otherwise a tracking-error limit has no value (not breached, listed with value null).
 */
export async function whatIfLimits(
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  portfolioId: number,
  defaultBenchmark: string,
  day: PortfolioDay,
  risk: RiskDay | null,
): Promise<LimitState[]> {
  const limits = (await loadLimitsOf(pool, [portfolioId])).get(portfolioId) ?? [];
  if (limits.length === 0) return [];
  const ref = (await readBenchmark(pool, portfolioId)) ?? { symbol: defaultBenchmark };
  const names = model.factors.map((f) => f.name);
  let bench: Record<string, number | null> = {};
  let trackingError: number | null = null;
  if ('symbol' in ref) {
    const b = (await loadSymbolBetas(pool, model, date, [ref.symbol])).betas.get(ref.symbol);
    if (b) bench = Object.fromEntries(names.map((n, i) => [n, Number.isNaN(b[i]!) ? null : b[i]!]));
    if (risk && risk.risk.benchmark === ref.symbol) trackingError = risk.risk.tracking_error;
  } else {
    bench = (await storedLimitInputs(pool, ref.portfolio_id, date))?.exposures ?? {};
  }
  const activeExposures = Object.fromEntries(
    names.map((n, i) => {
      const b = bench[n];
      return [n, b === null || b === undefined ? null : day.exposure.exposure[i]! - b];
    }),
  );
  return limitStates(limits, limitInputs(names, day, { activeExposures, trackingError }, risk ?? undefined));
}
