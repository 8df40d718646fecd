import type pg from 'pg';
import { saveRiskDays, type DatedRiskDays } from '../risk/store.ts';
import { saveActive, type ActiveResult } from './active-stage.ts';
import { savePortfolioDays, type DatedPortfolioDays } from './store.ts';

/**
 * The rows of some portfolios on one date, computed and not yet written: a run writes one date's
 * (runPortfolios, batch by batch), the portfolio stage a whole block's at once.
 */
export interface PortfolioDayRows {
  portfolios: DatedPortfolioDays;
  /** Null when no risk model could be formed for the date (nothing of the risk tables is touched). */
  risk: DatedRiskDays | null;
  /** Null when the active numbers are off. */
  active: { date: string; portfolioIds: readonly number[]; result: ActiveResult } | null;
}

/**
 * Writes the rows of any number of dates in the caller's transaction: each save takes every date at
 * once, so the statements do not multiply with the days (a 21-day block costs what one day does).
 */
export async function savePortfolioRows(
  client: pg.ClientBase,
  rows: readonly PortfolioDayRows[],
): Promise<void> {
  await savePortfolioDays(
    client,
    rows.map((r) => r.portfolios),
  );
  await saveRiskDays(
    client,
    rows.flatMap((r) => r.risk ?? []),
  );
  await saveActive(
    client,
    rows.flatMap((r) => r.active ?? []),
  );
}
