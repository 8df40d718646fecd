import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { loadMarketView } from '../portfolios/market.ts';
import { isOption } from '../portfolios/position.ts';
import { openPositions } from '../portfolios/store.ts';
import { DEFAULT_OPTION_SETTINGS, valuePosition, type OptionSettings } from '../portfolios/valuation.ts';
import { computeBetas } from './engine.ts';
import { proxySymbols, ridgeFactors, type FactorModel } from './model.ts';
import type { ReturnsPanel } from './panel.ts';
import { loadPanel } from './store.ts';

/**
 * The legacy, per-position path, kept only for the dual-write transition: for every open position it
 * loads its own symbol's prices and runs the regressions for that symbol alone, as the old system
 * did, and writes `position_factor_exposures` (an option's row: delta × the underlying's beta, with
 * the delta of `valuePosition`). Deliberately not universe-first: `compare` checks it against the
 * symbol table before it is retired.
 */
export async function runPositionExposures(
  db: Kysely<Database>,
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  options: OptionSettings = DEFAULT_OPTION_SETTINGS,
  /** A backfill's shared panel; without it each position loads its own prices, as the old system did. */
  shared?: ReturnsPanel,
): Promise<{ positions: number; rows: number }> {
  const positions = await openPositions(db, date);
  const lookback = Math.max(...model.factors.map((f) => f.windowDays));
  const ridgeWindow = ridgeFactors(model)[0]?.windowDays ?? 365;
  let written = 0;
  for (const p of positions) {
    const option = isOption(p.positionType);
    const betaSymbol = option ? p.underlyingSymbol! : p.symbol;
    if (option && p.expirationDate! <= date) continue; // an expired option contributes nothing
    // One regression per position (and, without a shared panel, one price load): the cost the
    // universe-first path removes.
    const panel =
      shared && shared.dates.includes(date)
        ? shared
        : await loadPanel(pool, model, date, date, lookback, [betaSymbol, ...proxySymbols(model)]);
    const s = panel.symbols.indexOf(betaSymbol);
    const end = panel.dates.indexOf(date);
    if (s < 0 || end < 0) continue;
    const out = computeBetas(panel, model, end, [s]);
    let delta: number | null = null;
    if (option) {
      const market = await loadMarketView(
        pool,
        model.settings.calendarSymbol,
        date,
        [betaSymbol, p.symbol],
        p.impliedVolatility === null ? [betaSymbol] : [],
        ridgeWindow,
      );
      const value = valuePosition(p, market, true, options);
      if (value.option === null) continue; // no underlying price on D: no delta
      delta = value.option.delta;
    }
    await withTransaction(pool, async (client) => {
      await client.query(
        'DELETE FROM position_factor_exposures WHERE position_id = $1 AND calculation_date = $2',
        [p.id, date],
      );
      for (const r of out.results) {
        await client.query(
          `INSERT INTO position_factor_exposures (position_id, factor_id, calculation_date, portfolio_id, symbol, beta_symbol,
             exposure_value, beta, delta, r_squared, observations, quality_flag, is_option)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            p.id,
            r.factorId,
            date,
            p.portfolioId,
            p.symbol,
            betaSymbol,
            r.beta * (delta ?? 1),
            r.beta,
            delta,
            r.rSquared,
            r.observations,
            r.qualityFlag,
            option,
          ],
        );
        written++;
      }
    });
  }
  return { positions: positions.length, rows: written };
}
