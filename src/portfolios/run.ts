import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { runLimited } from '../run-limited.ts';
import { loadModel, volatilityWindowDays, type FactorModel } from '../factors/model.ts';
import { tradingDayOnOrBefore } from '../market/closes.ts';
import { loadDayPanel } from '../risk/day-panel.ts';
import type { BlockPanels } from '../risk/block-panel.ts';
import type { DayPanelCache } from '../risk/panel-cache.ts';
import {
  DEFAULT_RISK_SETTINGS,
  loadRiskContext,
  riskDays,
  type CarriedExposures,
  type RiskDay,
  type RiskSettings,
} from '../risk/report.ts';
import { analysePortfolio, betasFor, type BetaSources, type ReadPath } from './analytics.ts';
import { computeActive, loadActiveInputs, loadBenchmarksFor } from './active-stage.ts';
import { withBenchmarkPortfolios } from './benchmark-store.ts';
import { loadMarketView } from './market.ts';
import type { BlockMarket } from './block-market.ts';
import { inceptionSql } from './inception.ts';
import { isOption } from './position.ts';
import {
  loadPositionBetas,
  loadSymbolBetas,
  openPositions,
  previousSnapshots,
  type PortfolioDay,
} from './store.ts';
import { savePortfolioRows, type PortfolioDayRows } from './day-rows.ts';
import type { PreviousDay } from './snapshot.ts';
import {
  DEFAULT_OPTION_SETTINGS,
  type HeldPosition,
  type MarketView,
  type OptionSettings,
} from './valuation.ts';

export interface PortfolioRunOptions {
  date: string;
  readPath?: ReadPath;
  /** Portfolios per transaction. */
  batchSize?: number;
  /** Batches written at once, each on its own pooled connection. */
  maxConcurrentBatches?: number;
  portfolioIds?: number[];
  options?: OptionSettings;
  /** Risk model half-life, benchmark and stress scenarios (METHODOLOGY.md 10–13). */
  risk?: RiskSettings;
  /** Compute and store risk, VaR, stress tests and attribution (default true; the benchmark turns it off to measure it). */
  withRisk?: boolean;
  /** Active numbers and limit checks (default true with the risk; the benchmark turns it off to measure it). */
  withActive?: boolean;
  /** The factor model, already loaded (the pipeline's day context); `date` is then a trading day. */
  model?: FactorModel;
  /**
   * The day panels of the block of days this run is one of (the portfolio stage), under the same
   * risk settings as `risk`: the 250-day returns come from the block's one read instead of the day's.
   */
  panels?: BlockPanels;
  /**
   * The day before `date` as computed in memory by a caller that has not stored it yet (the
   * portfolio stage's block): its snapshots and exposures are then not read from the database.
   */
  carried?: CarriedDay;
  /** The market views of the block of days this run is one of (the portfolio stage): one read per block. */
  market?: BlockMarket;
}

/** What a computed day hands to the next one, in place of the stored rows it would read. */
export interface CarriedDay {
  /** Each portfolio's latest snapshot before the next date (equity and cumulative P&L roll forward). */
  snapshots: ReadonlyMap<number, PreviousDay>;
  /** The day's symbol-source exposures (attribution); null when the run computed another source. */
  exposures: CarriedExposures | null;
}

export interface PortfolioRunResult {
  requestedDate: string;
  date: string;
  betasDate: string | null;
  portfolios: number;
  positions: number;
  failures: { portfolioIds: number[]; error: string }[];
  timings: { loadMs: number; computeMs: number; writeMs: number };
}

/** Everything a set of positions needs on D: quotes, realised vols and betas, in a few bulk reads. */
async function loadInputs(
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  positions: readonly HeldPosition[],
  readPath: ReadPath,
  block?: BlockMarket,
) {
  const symbols = [
    ...new Set(positions.flatMap((p) => (p.underlyingSymbol ? [p.symbol, p.underlyingSymbol] : [p.symbol]))),
  ];
  const volSymbols = [
    ...new Set(
      positions
        .filter((p) => isOption(p.positionType) && p.impliedVolatility === null)
        .map((p) => p.underlyingSymbol!),
    ),
  ];
  const betaSymbols = [...new Set(positions.map((p) => p.underlyingSymbol ?? p.symbol))];
  // independent reads, at once: a day's reads are a few milliseconds each, paid 252 times a year
  const [market, symbolBetas, byPosition] = await Promise.all([
    block
      ? block.view(date, symbols, volSymbols)
      : loadMarketView(
          pool,
          model.settings.calendarSymbol,
          date,
          symbols,
          volSymbols,
          volatilityWindowDays(model),
        ),
    readPath === 'position'
      ? { betasDate: null, betas: new Map<string | number, Float64Array>() }
      : loadSymbolBetas(pool, model, date, betaSymbols),
    readPath === 'symbol'
      ? new Map<string | number, Float64Array>()
      : loadPositionBetas(
          pool,
          model,
          date,
          positions.map((p) => p.id),
        ),
  ]);
  const sources: BetaSources = { bySymbol: symbolBetas.betas, byPosition };
  return { market, sources, betasDate: readPath === 'position' ? date : symbolBetas.betasDate };
}

/** One date's computed portfolios: what a run writes, and what the next day rolls forward from. */
export interface ComputedPortfolioDay {
  date: string;
  betasDate: string | null;
  portfolios: number;
  positions: number;
  /** The rows of the portfolios the run writes (those asked for), in batches of the given portfolios. */
  rowsFor(batch: readonly PortfolioDay[]): PortfolioDayRows;
  /** The days of the portfolios the run writes, in portfolio order. */
  toWrite: PortfolioDay[];
  /** What the next date needs of this one (`carried` for the next call). */
  carry: CarriedDay;
  timings: { loadMs: number; computeMs: number };
}

/**
 * The one per-day flow of the portfolios: reads in bulk (positions, quotes, betas: one query each),
 * computes every portfolio's day in memory, and returns its rows unwritten.
 */
export async function computePortfolioDay(
  db: Kysely<Database>,
  pool: pg.Pool,
  o: PortfolioRunOptions,
): Promise<ComputedPortfolioDay> {
  const readPath = o.readPath ?? 'symbol';
  const settings = o.options ?? DEFAULT_OPTION_SETTINGS;
  const model = o.model ?? (await loadModel(db));
  const date = o.model ? o.date : await tradingDayOnOrBefore(pool, model.settings.calendarSymbol, o.date);
  if (!date) throw new Error(`no trading day on or before ${o.date}`);

  let t0 = performance.now();
  // A portfolio's history starts at its inception (its earliest entry date; unknown, and so no
  // limit, while a position has no entry date): a run for an earlier date writes nothing for it.
  let portfolioQuery = db
    .selectFrom('portfolios')
    .select(['id', 'equity_balance'])
    .where(sql<boolean>`coalesce(${inceptionSql('portfolios.id')}, '-infinity'::date) <= ${date}::date`)
    .orderBy('id');
  if (o.portfolioIds) {
    // a portfolio benchmarked to another needs that one's day too (METHODOLOGY.md 15): it is
    // computed here but written only by the run that asked for it (no two writers of one row)
    const wanted = o.portfolioIds.length ? await withBenchmarkPortfolios(pool, o.portfolioIds) : [-1];
    portfolioQuery = portfolioQuery.where('id', 'in', wanted);
  }
  const portfolios = await portfolioQuery.execute();
  const ids = portfolios.map((p) => p.id);
  // the three reads depend on the portfolios alone: at once
  const [positions, previous, benchmarks] = await Promise.all([
    openPositions(db, date, ids),
    o.carried?.snapshots ?? previousSnapshots(pool, date, ids),
    o.withRisk === false || o.withActive === false
      ? null
      : loadBenchmarksFor(pool, ids, o.risk?.benchmark ?? 'SPY'),
  ]);
  const betaSymbols = [...new Set(positions.map((p) => p.underlyingSymbol ?? p.symbol))];
  // no benchmark list when the active numbers are off (bench:limits measures them that way)
  const riskSymbols = [...new Set([...betaSymbols, ...(benchmarks?.symbols ?? [])])];
  if (o.panels && o.panels.settings !== (o.risk ?? DEFAULT_RISK_SETTINGS))
    throw new Error("the block's panels were made under other risk settings than the run's");
  // the risk inputs do not depend on the valuation inputs: both reads run at once
  const [{ market, sources, betasDate }, riskContext, activeInputs] = await Promise.all([
    loadInputs(pool, model, date, positions, readPath, o.market),
    o.withRisk === false
      ? null
      : (async () =>
          loadRiskContext(
            db,
            pool,
            model,
            date,
            riskSymbols,
            ids,
            o.risk,
            o.panels ? await o.panels.panelFor(date, riskSymbols) : undefined,
            o.carried?.exposures ?? undefined,
          ))(),
    benchmarks ? loadActiveInputs(pool, model, date, ids, benchmarks) : null,
  ]);
  const loadMs = performance.now() - t0;

  t0 = performance.now();
  const byPortfolio = new Map<number, HeldPosition[]>(ids.map((id) => [id, []]));
  for (const p of positions) byPortfolio.get(p.portfolioId)!.push(p);
  const lookup = betasFor(readPath, sources);
  const days = portfolios.map((p) =>
    analysePortfolio(
      p.id,
      byPortfolio.get(p.id)!,
      market,
      previous.get(p.id) ?? null,
      p.equity_balance,
      lookup,
      model,
      settings,
    ),
  );
  const sizes = new Map(positions.map((p) => [p.id, p.quantity * p.multiplier]));
  const risks = new Map<number, RiskDay>(
    riskContext ? riskDays(riskContext, days, sizes, true).map((r) => [r.portfolioId, r]) : [],
  );
  const active = activeInputs
    ? computeActive(model, activeInputs, days, risks, riskContext?.lookup ?? null)
    : null;
  const computeMs = performance.now() - t0;

  const source = readPath === 'position' ? 'position' : 'symbol';
  const asked = o.portfolioIds ? new Set(o.portfolioIds) : null;
  const snapshots = new Map(previous);
  for (const d of days)
    snapshots.set(d.portfolioId, { equity: d.snapshot.equity, cumulativePnl: d.snapshot.cumulativePnl });
  // as loadExposuresOn reads them back: by factor name, and no entry without a factor row
  const exposures: CarriedExposures | null =
    source === 'symbol'
      ? {
          date,
          byPortfolio: new Map(
            model.factors.length === 0
              ? []
              : days.map((d) => [
                  d.portfolioId,
                  {
                    exposure: new Map(model.factors.map((f, i) => [f.name, d.exposure.exposure[i]!])),
                    equity: d.snapshot.equity,
                  },
                ]),
          ),
        }
      : null;
  return {
    date,
    betasDate,
    portfolios: portfolios.length,
    positions: positions.length,
    toWrite: asked ? days.filter((d) => asked.has(d.portfolioId)) : days,
    rowsFor: (batch) => ({
      portfolios: { date, model, betasDate, source, days: batch },
      risk: riskContext
        ? {
            date,
            riskModel: riskContext.riskModel,
            days: batch.flatMap((d) => risks.get(d.portfolioId) ?? []),
          }
        : null,
      active: active ? { date, portfolioIds: batch.map((d) => d.portfolioId), result: active } : null,
    }),
    carry: { snapshots, exposures },
    timings: { loadMs, computeMs },
  };
}

/**
 * P&L, snapshots, Greeks, factor exposures and stress tests of every portfolio for one date
 * (computePortfolioDay), written batch by batch of portfolios, each in its own transaction; a
 * failing batch is reported and the others commit.
 */
export async function runPortfolios(
  db: Kysely<Database>,
  pool: pg.Pool,
  o: PortfolioRunOptions,
): Promise<PortfolioRunResult> {
  const batchSize = o.batchSize ?? 100;
  const day = await computePortfolioDay(db, pool, o);
  const t0 = performance.now();
  const failures: PortfolioRunResult['failures'] = [];
  const batches: PortfolioDay[][] = [];
  for (let i = 0; i < day.toWrite.length; i += batchSize) batches.push(day.toWrite.slice(i, i + batchSize));
  await runLimited(batches, o.maxConcurrentBatches ?? 5, async (batch) => {
    try {
      await withTransaction(pool, (client) => savePortfolioRows(client, [day.rowsFor(batch)]));
    } catch (e) {
      failures.push({
        portfolioIds: batch.map((d) => d.portfolioId),
        error: e instanceof Error ? e.message : String(e),
      });
    }
  });
  return {
    requestedDate: o.date,
    date: day.date,
    betasDate: day.betasDate,
    portfolios: day.portfolios,
    positions: day.positions,
    failures,
    timings: { ...day.timings, writeMs: performance.now() - t0 },
  };
}

export interface WhatIfResult {
  date: string;
  betasDate: string | null;
  model: FactorModel;
  day: PortfolioDay;
  market: MarketView;
  /** Risk, VaR, stress and hedges of the book; null when no risk model can be formed for the date. */
  risk: RiskDay | null;
}

/**
 * Exposures of a hypothetical list of positions with the given equity, on D; stored nowhere. The
 * risk inputs are one day panel: from `panels` (every symbol of D, read once and kept in memory)
 * when given, else read for the book's symbols alone; never a query per position.
 */
export async function whatIf(
  db: Kysely<Database>,
  pool: pg.Pool,
  positions: readonly HeldPosition[],
  requestedDate: string,
  equity: number,
  readPath: Exclude<ReadPath, 'position'> = 'symbol',
  risk: RiskSettings = DEFAULT_RISK_SETTINGS,
  panels?: DayPanelCache,
): Promise<WhatIfResult> {
  if (!(Number.isFinite(equity) && equity > 0))
    throw new Error(`equity must be a positive number, got ${equity}`);
  const model = await loadModel(db);
  const date = await tradingDayOnOrBefore(pool, model.settings.calendarSymbol, requestedDate);
  if (!date) throw new Error(`no trading day on or before ${requestedDate}`);
  const betaSymbols = [...new Set(positions.map((p) => p.underlyingSymbol ?? p.symbol))];
  const [{ market, sources, betasDate }, riskContext] = await Promise.all([
    loadInputs(pool, model, date, positions, readPath),
    (async () => {
      const held = panels
        ? await panels.get(date, risk, () => loadDayPanel(db, pool, model, date, risk, null))
        : undefined;
      return loadRiskContext(db, pool, model, date, betaSymbols, [], risk, held);
    })(),
  ]);
  const day = analysePortfolio(
    0,
    positions,
    market,
    null,
    equity,
    betasFor(readPath, sources),
    model,
    DEFAULT_OPTION_SETTINGS,
  );
  const sizes = new Map(positions.map((p) => [p.id, p.quantity * p.multiplier]));
  const riskDay = riskContext ? riskDays(riskContext, [day], sizes, false)[0]! : null;
  return { date, betasDate, model, day, market, risk: riskDay };
}
