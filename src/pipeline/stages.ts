import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { computeFactorBlock, saveFactorBlock } from '../factors/block.ts';
import { importCompanies } from '../imports/companies.ts';
import { updateMarketData } from '../market/market-data-step.ts';
import { marketDataConfigured } from '../market/providers/index.ts';
import type { FetchLike } from '../market/providers/types.ts';
import { computeLegacyBlock, saveLegacyBlock } from '../legacy/position-exposures.ts';
import { computeMetricsBlock } from '../metrics/run.ts';
import { loadMetricsJoins, saveMetricsBlock } from '../metrics/write.ts';
import { computePortfolioBlock } from '../portfolios/block-run.ts';
import { savePortfolioRows } from '../portfolios/day-rows.ts';
import { ridgeFactors } from '../factors/model.ts';
import { loadPanel } from '../factors/store.ts';
import { computeRiskModel, stressProxies } from '../risk/model.ts';
import { BlockPanels } from '../risk/block-panel.ts';
import { riskSettings } from '../risk/report.ts';
import { saveRiskModel } from '../risk/store.ts';
import { refreshUniverse } from '../universe.ts';
import type { DayContext } from './context.ts';
import { portfolioShard, shardCount, symbolShard, type Partition } from './partitions.ts';

/**
 * The day's flow, declared: each stage names the stages it comes after, the tables it reads and
 * writes, how a date block splits into partitions, and what one partition does. The engine
 * (engine.ts) orders them from these declarations and runs each (stage, date block, partition) as a
 * job; this file is the one place to read the flow:
 *
 *   market_data ─► universe ─► factor_betas ─► risk_model ─► symbol_metrics ─► portfolios ─► (next block's)
 *                          └─► legacy_positions (while dual-write is on)
 *
 * Stages of scope `run` run once for the run's whole range, before its trading days are known (a day
 * becomes a trading day when its prices arrive); stages of scope `block` run per block of consecutive
 * trading days (one day for a daily run), with a `DayContext` per day.
 */

/** What a job of a stage gets. */
export interface StageJob {
  db: Kysely<Database>;
  pool: pg.Pool;
  config: Config;
  /** The run's requested range (run-scope stages work on it). */
  from: string;
  to: string;
  /** The trading calendar's symbol (SPY): run-scope stages have no day context. */
  calendarSymbol: string;
  force: boolean;
  /** The block's days, in order ([] for run-scope stages). */
  days: readonly DayContext[];
  partition: Partition;
}

export interface StageOutcome {
  /** Units of work done (symbols, portfolios, files…), for progress and the run record. */
  items: number;
  details?: Record<string, unknown>;
  /**
   * Writes the computed outcome in the engine's transaction, the one that also counts the partition
   * done: a partition is never counted without its rows, nor its rows kept without the count.
   */
  save?: (client: pg.ClientBase) => Promise<void>;
}

export interface Stage {
  name: string;
  description: string;
  after: readonly string[];
  reads: readonly string[];
  writes: readonly string[];
  scope: 'run' | 'block';
  /** A block waits for the same stage of the previous block (equity rolls forward day by day). */
  sequential?: boolean;
  /** Whether the stage is part of runs under this configuration. */
  enabled?: (config: Config) => boolean;
  /** Partitions of one block (default 1); read in the transaction that enqueues the stage. */
  partitions?: (client: pg.ClientBase, config: Config) => Promise<number>;
  run(job: StageJob): Promise<StageOutcome>;
}

/**
 * Prices from the configured provider (FU_MARKET_DATA_PROVIDER: file, yahoo, tiingo) through the
 * run's last day, before anything computes on them. `fetchImpl` is the HTTP client handed to the
 * provider (tests give a recorded-answer stand-in). A symbol the provider fails for is that symbol's
 * recorded failure; the others are stored.
 */
export function marketDataStage(fetchImpl?: FetchLike): Stage {
  return {
    name: 'market_data',
    description: 'fetch the new prices of the configured provider, if any',
    after: [],
    reads: ['symbol_universe', 'positions'],
    writes: ['market_data_cache', 'market_data_fetch_failures', 'market_data_revisions', 'symbol_universe'],
    scope: 'run',
    run: async ({ pool, config, to, calendarSymbol }) => {
      if (!marketDataConfigured(config))
        return { items: 0, details: { note: 'no market data source configured' } };
      const r = await updateMarketData(
        pool,
        config,
        to,
        calendarSymbol,
        fetchImpl ? { fetch: fetchImpl } : {},
      );
      return {
        items: r.symbols,
        details: {
          provider: r.provider,
          rows: r.rows,
          counts: r.counts,
          revised: r.revised.map((x) => x.symbol),
          failures: r.failures,
        },
      };
    },
  };
}

const UNIVERSE: Stage = {
  name: 'universe',
  description: 'company profiles (from the configured file, if any) and the symbol universe',
  after: ['market_data'],
  reads: ['market_data_cache', 'positions'],
  writes: ['company_profiles', 'symbol_universe'],
  scope: 'run',
  run: async ({ pool, config }) => {
    if (config.companiesPath) {
      const r = await importCompanies(pool, config.companiesPath);
      return { items: r.rows, details: { written: r.written } };
    }
    await withTransaction(pool, refreshUniverse);
    return { items: 0 };
  },
};

const FACTOR_BETAS: Stage = {
  name: 'factor_betas',
  description: 'the factor betas of every universe symbol (one shard of symbols per partition)',
  after: ['universe'],
  reads: ['market_data_cache', 'symbol_universe', 'factor_definitions'],
  writes: ['symbol_day_factors'],
  scope: 'block',
  partitions: (client, config) => shardCount(client, 'symbol_universe', config.symbolShardSize),
  run: async ({ pool, days, partition, force }) => {
    const symbols = await symbolShard(pool, partition);
    const block = await computeFactorBlock(
      pool,
      days[0]!.model,
      days.map((d) => d.date),
      symbols,
      force,
    );
    // recorded after `save` returned (engine.ts): the write's time lands in the same record
    const details: Record<string, number> = { computed: block.computed, ...block.timings };
    return {
      items: symbols.length,
      details,
      save: async (client) => {
        const t0 = performance.now();
        await saveFactorBlock(client, block);
        details.writeMs = performance.now() - t0;
      },
    };
  },
};

const RISK_MODEL: Stage = {
  name: 'risk_model',
  description: 'the factor and proxy covariances of each day (specific vols come with the betas)',
  after: ['factor_betas'],
  reads: ['market_data_cache'],
  writes: ['risk_models'],
  scope: 'block',
  run: async ({ pool, days, config }) => {
    const model = days[0]!.model;
    const windowDays = ridgeFactors(model)[0]?.windowDays ?? 365;
    // the proxies' closes once for the block and its window; then one small computation per day
    const panel = await loadPanel(
      pool,
      model,
      days[0]!.date,
      days.at(-1)!.date,
      windowDays,
      stressProxies(model),
    );
    const models = days.flatMap(
      (d) => computeRiskModel(panel, model, panel.dates.indexOf(d.date), config.riskHalfLife) ?? [],
    );
    return {
      items: models.length,
      details:
        models.length < days.length
          ? { note: `${days.length - models.length} day(s) without a model: a proxy lacks returns` }
          : {},
      save: async (client) => {
        for (const m of models) await saveRiskModel(client, m);
      },
    };
  },
};

const SYMBOL_METRICS: Stage = {
  name: 'symbol_metrics',
  description: 'returns, valuation, betas and specific vol per symbol and day (symbol_daily_metrics)',
  after: ['factor_betas'],
  reads: ['market_data_cache', 'symbol_universe', 'company_profiles', 'symbol_day_factors'],
  writes: ['symbol_daily_metrics'],
  scope: 'block',
  partitions: (client, config) => shardCount(client, 'symbol_universe', config.symbolShardSize),
  run: async ({ pool, days, partition }) => {
    const model = days[0]!.model;
    const symbols = await symbolShard(pool, partition);
    const dates = days.map((d) => d.date);
    // the profile and beta columns read for the whole block, beside the closes' read and the
    // computation (independent queries: the server answers one while the other is parsed)
    const t1 = performance.now();
    let joinsMs = 0;
    const [computed, joins] = await Promise.all([
      computeMetricsBlock(pool, model, dates, symbols),
      loadMetricsJoins(pool, model, dates, symbols).then((j) => {
        joinsMs = performance.now() - t1;
        return j;
      }),
    ]);
    // the engine records `details` after `save` returned: the write's time lands in the same record
    const details: Record<string, number> = { ...computed.timings, joinsMs };
    return {
      items: symbols.length,
      details,
      save: async (client) => {
        const t0 = performance.now();
        await saveMetricsBlock(client, computed.days, joins);
        details.writeMs = performance.now() - t0;
      },
    };
  },
};

const PORTFOLIOS: Stage = {
  name: 'portfolios',
  description:
    'P&L, market values, snapshots, Greeks, factor exposures, risk, VaR, stress tests, attribution',
  after: ['symbol_metrics', 'risk_model'],
  reads: [
    'positions',
    'market_data_cache',
    'symbol_daily_metrics',
    'symbol_day_factors',
    'portfolio_snapshots',
  ],
  writes: [
    'portfolio_snapshots',
    'position_daily_values',
    'factor_exposures',
    'stress_test_results',
    'portfolio_risk',
    'portfolio_attribution',
    'portfolio_active_days',
    'portfolio_limit_breaches',
  ],
  scope: 'block',
  sequential: true,
  partitions: (client, config) => shardCount(client, 'portfolios', config.portfolioShardSize),
  run: async ({ db, pool, days, partition, config }) => {
    const portfolioIds = await portfolioShard(pool, partition);
    const risk = riskSettings(config);
    // the 250-day returns and the scenario windows' closes read once for the block, not per day
    const panels = new BlockPanels(
      db,
      pool,
      days[0]!.model,
      days.map((d) => d.date),
      risk,
    );
    // Day by day in memory (each day's equity rolls forward from the previous day's snapshot), then
    // the whole block's rows in the engine's transaction: one statement per table, not per day.
    const block = await computePortfolioBlock(db, pool, days, {
      portfolioIds,
      readPath: config.readPath,
      risk,
      panels,
    });
    // the engine records `details` after `save` returned: the write's time lands in the same record
    const details: Record<string, number> = {
      positions: block.positions,
      panelReads: panels.reads,
      ...block.timings,
    };
    return {
      items: portfolioIds.length,
      details,
      save: async (client) => {
        const t0 = performance.now();
        await savePortfolioRows(client, block.rows);
        details.writeMs = performance.now() - t0;
      },
    };
  },
};

const LEGACY_POSITIONS: Stage = {
  name: 'legacy_positions',
  description: 'the legacy per-position betas (the independent reference), while dual-write is on',
  after: ['universe'],
  reads: ['positions', 'market_data_cache'],
  writes: ['position_factor_exposures'],
  scope: 'block',
  enabled: (config) => config.dualWrite,
  run: async ({ pool, days }) => {
    // the block's closes read once; each position's own regressions per day, as the old system did
    const block = await computeLegacyBlock(
      pool,
      days.map((d) => d.date),
    );
    return {
      items: block.positions,
      details: { rows: block.rows.length },
      save: (client) => saveLegacyBlock(client, block),
    };
  },
};

/** Every stage, in an order that respects `after` (checked by the engine at start). */
export const STAGES: readonly Stage[] = [
  marketDataStage(),
  UNIVERSE,
  FACTOR_BETAS,
  RISK_MODEL,
  SYMBOL_METRICS,
  PORTFOLIOS,
  LEGACY_POSITIONS,
];
