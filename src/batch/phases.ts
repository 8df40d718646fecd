import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { runPositionExposures } from '../factors/legacy.ts';
import { loadModel } from '../factors/model.ts';
import type { ReturnsPanel } from '../factors/panel.ts';
import { runFactors } from '../factors/run.ts';
import { importCompanies } from '../imports/companies.ts';
import type { ClosesMatrix } from '../market/closes.ts';
import { updateMarketData } from '../market/market-data-step.ts';
import { marketDataConfigured } from '../market/providers/index.ts';
import type { FetchLike } from '../market/providers/types.ts';
import { runMetrics } from '../metrics/run.ts';
import { runPortfolios } from '../portfolios/run.ts';
import { refreshUniverse } from '../universe.ts';

/** What a phase gets: the store, the settings, the date, and data shared across the dates of a run. */
export interface PhaseContext {
  db: Kysely<Database>;
  pool: pg.Pool;
  config: Config;
  date: string;
  force: boolean;
  /** Loaded once for a backfill's whole range, so no date reloads its window. */
  shared: { panel?: ReturnsPanel; closes?: ClosesMatrix };
}

export interface PhaseOutcome {
  itemsTotal: number;
  itemsSucceeded: number;
  itemsFailed: number;
  details?: Record<string, unknown>;
  /** Set when the phase had nothing to do (e.g. no provider configured). */
  skipped?: string;
}

export interface Phase {
  name: string;
  description: string;
  run(ctx: PhaseContext): Promise<PhaseOutcome>;
}

const done = (n: number, failed = 0, details?: Record<string, unknown>): PhaseOutcome => ({
  itemsTotal: n,
  itemsSucceeded: n - failed,
  itemsFailed: failed,
  ...(details ? { details } : {}),
});

/**
 * Prices from the configured provider (FU_MARKET_DATA_PROVIDER), before anything computes on them.
 * `fetchImpl` is the HTTP client handed to the provider (tests give a recorder).
 */
export function marketDataPhase(fetchImpl?: FetchLike): Phase {
  return {
    name: 'market_data',
    description: 'fetch new prices from the configured provider (file, yahoo, tiingo), if any',
    run: async ({ db, pool, config, date }) => {
      if (!marketDataConfigured(config)) return { ...done(0), skipped: 'no market data source configured' };
      const { calendarSymbol } = (await loadModel(db)).settings;
      const r = await updateMarketData(
        pool,
        config,
        date,
        calendarSymbol,
        fetchImpl ? { fetch: fetchImpl } : {},
      );
      return done(r.symbols, r.failures.length, {
        provider: r.provider,
        runId: r.runId,
        rows: r.rows,
        counts: r.counts,
        revised: r.revised.map((x) => ({ symbol: x.symbol, ...x.revision })),
        failures: r.failures,
      });
    },
  };
}

/**
 * The daily batch: market data first (everything computes on its closes), then the seed's order. Each phase is idempotent (upserts keyed by date), so a
 * date interrupted anywhere can be run again to the same rows.
 */
export const DAILY_PHASES: readonly Phase[] = [
  marketDataPhase(),
  {
    name: 'company_profiles',
    description: 'refresh company profiles (from the configured file, if any) and the universe',
    run: async ({ pool, config }) => {
      if (config.companiesPath) {
        const r = await importCompanies(pool, config.companiesPath);
        return done(r.rows, 0, { written: r.written });
      }
      await withTransaction(pool, refreshUniverse);
      return done(0);
    },
  },
  {
    name: 'universe_factors',
    description: 'factor betas of every universe symbol (Phase 0.5)',
    run: async ({ db, pool, date, force, shared, config }) => {
      const r = await runFactors(db, pool, {
        date,
        force,
        panel: shared.panel,
        maxConcurrentBatches: config.maxConcurrentBatches,
        batchSize: config.factorBatchSize,
      });
      const failed = r.failures.reduce((s, f) => s + f.symbols.length, 0);
      return done(r.symbols, failed, {
        calculationDate: r.calculationDate,
        cached: r.alreadyCached,
        skipped: r.skipped,
        failures: r.failures,
        timings: r.timings,
      });
    },
  },
  {
    name: 'symbol_metrics',
    description: 'returns, valuation and betas per symbol (Phase 1.5)',
    run: async ({ db, pool, date, shared }) => {
      const r = await runMetrics(db, pool, date, shared.closes);
      return done(r.symbols, 0, { written: r.written, timings: r.timings });
    },
  },
  {
    name: 'portfolios',
    description: 'P&L, market values, snapshots, Greeks, stress tests and factor exposures (Phases 2 to 6)',
    run: async ({ db, pool, date, config }) => {
      const r = await runPortfolios(db, pool, {
        date,
        readPath: config.readPath,
        maxConcurrentBatches: config.maxConcurrentBatches,
      });
      const failed = r.failures.reduce((s, f) => s + f.portfolioIds.length, 0);
      return done(r.portfolios, failed, {
        positions: r.positions,
        betasDate: r.betasDate,
        failures: r.failures,
        timings: r.timings,
      });
    },
  },
  {
    name: 'legacy_position_exposures',
    description: 'the legacy per-position betas, while dual-write is on',
    run: async ({ db, pool, date, config, shared }) => {
      if (!config.dualWrite) return { ...done(0), skipped: 'dual-write is off' };
      const r = await runPositionExposures(db, pool, await loadModel(db), date, undefined, shared.panel);
      return done(r.positions, 0, { rows: r.rows });
    },
  },
];
