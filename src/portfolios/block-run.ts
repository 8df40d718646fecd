import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.ts';
import { volatilityWindowDays, type FactorModel } from '../factors/model.ts';
import { BlockMarket } from './block-market.ts';
import type { PortfolioDayRows } from './day-rows.ts';
import { computePortfolioDay, type CarriedDay, type PortfolioRunOptions } from './run.ts';

export interface PortfolioBlock {
  /** Every day's rows, in date order, for one write (savePortfolioRows). */
  rows: PortfolioDayRows[];
  positions: number;
  timings: { loadMs: number; computeMs: number };
}

/**
 * The portfolios' days of a block of consecutive trading days, computed in order and not written.
 * Each day rolls forward from the day before (equity from its snapshots, attribution from its
 * exposures): the block's first day from the stored rows, the next ones from the previous day
 * carried in memory (nothing is stored until the whole block is), so the rows are those of
 * `runPortfolios` run day by day.
 */
export async function computePortfolioBlock(
  db: Kysely<Database>,
  pool: pg.Pool,
  days: readonly { date: string; model: FactorModel }[],
  o: Omit<PortfolioRunOptions, 'date' | 'model' | 'carried' | 'market'>,
): Promise<PortfolioBlock> {
  const blockModel = days[0]?.model;
  // the block's quotes and stored vols in one read (the days' views are filtered from it)
  const market = blockModel
    ? new BlockMarket(
        pool,
        blockModel.settings.calendarSymbol,
        days.map((d) => d.date),
        volatilityWindowDays(blockModel),
      )
    : undefined;
  const out: PortfolioBlock = { rows: [], positions: 0, timings: { loadMs: 0, computeMs: 0 } };
  let carried: CarriedDay | undefined;
  for (const { date, model } of days) {
    const day = await computePortfolioDay(db, pool, { ...o, date, model, carried, market });
    out.rows.push(day.rowsFor(day.toWrite));
    out.positions += day.positions;
    out.timings.loadMs += day.timings.loadMs;
    out.timings.computeMs += day.timings.computeMs;
    carried = day.carry;
  }
  return out;
}
