import type pg from 'pg';
import type { FactorModel } from '../factors/model.ts';
import type { RiskDay } from '../risk/report.ts';
import type { RiskLookup } from '../risk/portfolio.ts';
import { activeNumbers, benchmarkOrder, type BenchmarkRef, type Book } from './benchmark.ts';
import {
  loadBenchmarks,
  loadLimitsOf,
  loadSymbolReturns,
  saveActiveDays,
  saveBreaches,
  type ActiveRow,
} from './benchmark-store.ts';
import { checkLimits, type Breach, type Limit, type LimitInputs } from './limits.ts';
import { loadSymbolBetas } from './store.ts';
import type { PortfolioDay } from './store.ts';

/**
 * The portfolio stage's benchmark-relative numbers and limit checks (METHODOLOGY.md 15), kept apart
 * from the stage itself: `loadActiveInputs` reads what they need in a few bulk queries,
 * `computeActive` works them out in memory from the stage's days and risk reports, `saveActive`
 * writes them in the stage's transaction of each batch.
 */

export interface ActiveInputs {
  benchmarks: Map<number, BenchmarkRef>;
  /** Betas (every model factor) and returns on D of the benchmark symbols. */
  symbolBetas: Map<string | number, Float64Array>;
  symbolReturns: Map<string, number>;
  limits: Map<number, Limit[]>;
}

/** The benchmarks of the portfolios (read first: their symbols join the risk model's reads). */
export async function loadBenchmarksFor(
  pool: pg.Pool,
  ids: readonly number[],
  defaultSymbol: string,
): Promise<{ benchmarks: Map<number, BenchmarkRef>; symbols: string[] }> {
  const benchmarks = await loadBenchmarks(pool, ids, defaultSymbol);
  const symbols = [...new Set([...benchmarks.values()].flatMap((b) => ('symbol' in b ? [b.symbol] : [])))];
  return { benchmarks, symbols };
}

export async function loadActiveInputs(
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  ids: readonly number[],
  benchmarks: { benchmarks: Map<number, BenchmarkRef>; symbols: string[] },
): Promise<ActiveInputs> {
  const [betas, returns, limits] = await Promise.all([
    loadSymbolBetas(pool, model, date, benchmarks.symbols),
    loadSymbolReturns(pool, model.settings.calendarSymbol, date, benchmarks.symbols),
    loadLimitsOf(pool, ids),
  ]);
  return { benchmarks: benchmarks.benchmarks, symbolBetas: betas.betas, symbolReturns: returns, limits };
}

const NO_RISK: RiskLookup = {
  factors: [],
  covariance: new Float64Array(0),
  betas: () => undefined,
  specificVol: () => undefined,
};

/** A portfolio's day as a book: its held, priced positions at their §7 weights. */
export function bookOf(day: PortfolioDay): Book {
  return {
    positions: day.values
      .filter((v) => !v.expired)
      .map((v) => ({
        positionId: v.positionId,
        symbol: v.betaSymbol,
        weight: v.exposure === null ? null : v.exposure / day.snapshot.equity,
      })),
    exposures: day.exposure.exposure,
    dailyReturn: day.snapshot.dailyReturn,
  };
}

/** The benchmark side of the active numbers, or null when its portfolio has no day on D. */
function benchmarkBook(
  ref: BenchmarkRef,
  factorCount: number,
  inputs: ActiveInputs,
  books: ReadonlyMap<number, Book>,
): Parameters<typeof activeNumbers>[2] | null {
  if ('portfolio_id' in ref) {
    const b = books.get(ref.portfolio_id);
    if (!b) return null;
    return { exposures: b.exposures, weights: b.positions, dailyReturn: b.dailyReturn };
  }
  return {
    exposures: inputs.symbolBetas.get(ref.symbol) ?? new Float64Array(factorCount).fill(NaN),
    weights: [{ positionId: 0, symbol: ref.symbol, weight: 1 }],
    dailyReturn: inputs.symbolReturns.get(ref.symbol) ?? null,
  };
}

export interface ActiveResult {
  active: Map<number, ActiveRow>;
  breaches: Map<number, Breach[]>;
}

/**
 * Active numbers of every day, benchmark portfolios first (benchmarkOrder; a cycle throws), then the
 * limits of each portfolio checked against its numbers.
 */
export function computeActive(
  model: FactorModel,
  inputs: ActiveInputs,
  days: readonly PortfolioDay[],
  risks: ReadonlyMap<number, RiskDay>,
  lookup: RiskLookup | null,
): ActiveResult {
  const names = model.factors.map((f) => f.name);
  const byId = new Map(days.map((d) => [d.portfolioId, d]));
  // each day's book once: it serves its own numbers, the portfolios benchmarked to it and its limits
  const books = new Map(days.map((d) => [d.portfolioId, bookOf(d)]));
  const edges = new Map<number, number | null>(
    days.map((d) => {
      const b = inputs.benchmarks.get(d.portfolioId);
      return [d.portfolioId, b && 'portfolio_id' in b ? b.portfolio_id : null];
    }),
  );
  const active = new Map<number, ActiveRow>();
  const breaches = new Map<number, Breach[]>();
  for (const id of benchmarkOrder(edges)) {
    const day = byId.get(id)!;
    const ref = inputs.benchmarks.get(id) ?? { symbol: 'SPY' };
    const bench = benchmarkBook(ref, names.length, inputs, books);
    const book = books.get(id)!;
    const numbers = bench
      ? activeNumbers(names, book, bench, lookup ?? NO_RISK)
      : {
          activeExposures: Object.fromEntries(names.map((n) => [n, null])),
          trackingError: null,
          activeReturn: null,
          contributions: { factors: [], symbols: [], positions: [], benchmark: [] },
        };
    if (!lookup) numbers.trackingError = null;
    active.set(id, { portfolioId: id, benchmark: ref, ...numbers });
    const limits = inputs.limits.get(id);
    if (limits?.length)
      breaches.set(id, checkLimits(limits, limitInputs(names, day, numbers, risks.get(id), book)));
  }
  return { active, breaches };
}

export function limitInputs(
  names: readonly string[],
  day: PortfolioDay,
  numbers: { activeExposures: Record<string, number | null>; trackingError: number | null },
  risk: RiskDay | undefined,
  book: Book = bookOf(day),
): LimitInputs {
  return {
    exposures: Object.fromEntries(names.map((n, i) => [n, day.exposure.exposure[i]!])),
    activeExposures: numbers.activeExposures,
    totalRisk: risk?.risk.total_risk ?? null,
    trackingError: numbers.trackingError,
    var: risk ? { parametric: risk.var.parametric, historical: risk.var.historical } : null,
    weights: book.positions.map((p) => p.weight),
  };
}

/**
 * Writes the active numbers and replaces the breaches of some portfolios on one or several dates,
 * in the caller's transaction (one statement per table whatever the number of dates).
 */
export async function saveActive(
  client: pg.ClientBase,
  dated: readonly { date: string; portfolioIds: readonly number[]; result: ActiveResult }[],
): Promise<void> {
  await saveActiveDays(
    client,
    dated.map(({ date, portfolioIds, result }) => ({
      date,
      rows: portfolioIds.flatMap((id) => result.active.get(id) ?? []),
    })),
  );
  await saveBreaches(
    client,
    dated.map(({ date, portfolioIds, result }) => ({
      date,
      portfolioIds,
      breaches: portfolioIds.flatMap((id) => result.breaches.get(id) ?? []),
    })),
  );
}
