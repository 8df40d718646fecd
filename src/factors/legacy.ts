import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { loadMarketView } from '../portfolios/market.ts';
import { isExpired, isOption } from '../portfolios/position.ts';
import { openPositions } from '../portfolios/store.ts';
import { DEFAULT_OPTION_SETTINGS, valuePosition, type OptionSettings } from '../portfolios/valuation.ts';
import { computeBetas, type BetaResult } from './engine.ts';
import { lookbackDays, proxySymbols, volatilityWindowDays, type FactorModel } from './model.ts';
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
  const lookback = lookbackDays(model);
  const live = positions.filter((p) => !isExpired(p, date)); // an expired option contributes nothing
  const held = live.filter((p) => isOption(p.positionType));
  // The deltas come from the same valuation as the symbol path, so the comparison tests the betas.
  const market = await loadMarketView(
    pool,
    model.settings.calendarSymbol,
    date,
    held.flatMap((p) => [p.symbol, p.underlyingSymbol!]),
    held.filter((p) => p.impliedVolatility === null).map((p) => p.underlyingSymbol!),
    volatilityWindowDays(model),
  );
  const rows: { p: (typeof positions)[number]; betaSymbol: string; delta: number | null; r: BetaResult }[] =
    [];
  for (const p of live) {
    const option = isOption(p.positionType);
    const betaSymbol = option ? p.underlyingSymbol! : p.symbol;
    // One regression per position (and, without a shared panel, one price load): the cost the
    // universe-first path removes.
    const panel =
      shared && shared.dates.includes(date)
        ? shared
        : await loadPanel(pool, model, date, date, lookback, [betaSymbol, ...proxySymbols(model)]);
    const s = panel.symbols.indexOf(betaSymbol);
    const end = panel.dates.indexOf(date);
    if (s < 0 || end < 0) continue;
    let delta: number | null = null;
    if (option) {
      const value = valuePosition(p, market, true, options);
      if (value.option === null) continue; // no underlying price on D: no delta
      delta = value.option.delta;
    }
    for (const r of computeBetas(panel, model, end, [s]).results) rows.push({ p, betaSymbol, delta, r });
  }
  await withTransaction(pool, async (client) => {
    await client.query('DELETE FROM position_factor_exposures WHERE calculation_date = $1', [date]);
    await client.query(
      `INSERT INTO position_factor_exposures (position_id, factor_id, calculation_date, portfolio_id, symbol, beta_symbol,
         exposure_value, beta, delta, r_squared, observations, quality_flag, is_option)
       SELECT p, f, $1, pf, s, bs, b * COALESCE(d, 1), b, d, r, o, q, d IS NOT NULL
         FROM unnest($2::int[], $3::int2[], $4::int[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::int[], $11::text[])
           AS x(p, f, pf, s, bs, b, d, r, o, q)`,
      [
        date,
        rows.map((x) => x.p.id),
        rows.map((x) => x.r.factorId),
        rows.map((x) => x.p.portfolioId),
        rows.map((x) => x.p.symbol),
        rows.map((x) => x.betaSymbol),
        rows.map((x) => x.r.beta),
        rows.map((x) => x.delta),
        rows.map((x) => x.r.rSquared),
        rows.map((x) => x.r.observations),
        rows.map((x) => x.r.qualityFlag),
      ],
    );
  });
  return { positions: positions.length, rows: rows.length };
}
