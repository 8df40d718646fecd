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
import { importPrices } from '../imports/prices.ts';
import type { ClosesMatrix } from '../market/closes.ts';
import { runMetrics } from '../metrics/run.ts';
import { runPortfolios } from '../portfolios/run.ts';
import { runRiskModel } from '../risk/model.ts';
import { riskSettings } from '../risk/report.ts';
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
 * The daily batch, in the seed's order. Each phase is idempotent (upserts keyed by date), so a
 * date interrupted anywhere can be run again to the same rows.
 */
export const DAILY_PHASES: readonly Phase[] = [
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
    name: 'risk_model',
    description: 'factor and proxy covariances of the risk model (specific vols come with the betas)',
    run: async ({ db, pool, date, force, shared, config }) => {
      const r = await runRiskModel(db, pool, {
        date,
        halfLife: config.riskHalfLife,
        force,
        panel: shared.panel,
      });
      if (r.observations === null) return { ...done(0), skipped: r.reason! };
      return done(1, 0, { date: r.date, observations: r.observations, timings: r.timings });
    },
  },
  {
    name: 'market_data',
    description: 'import new prices from the configured folder or file, if any',
    run: async ({ pool, config }) => {
      if (!config.marketDataPath) return { ...done(0), skipped: 'no market data source configured' };
      const r = await importPrices(pool, config.marketDataPath);
      return done(r.results.length + r.failures.length, r.failures.length, {
        failures: r.failures.map((f) => f.message),
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
    description:
      'P&L, market values, snapshots, Greeks, factor exposures, risk, VaR, stress tests, attribution (Phases 2 to 6)',
    run: async ({ db, pool, date, config }) => {
      const r = await runPortfolios(db, pool, {
        date,
        readPath: config.readPath,
        maxConcurrentBatches: config.maxConcurrentBatches,
        risk: riskSettings(config),
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
