import type { Kysely } from 'kysely';
import type pg from 'pg';
import { toDayNumber } from '../dates.ts';
import type { Database, PositionType } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { bsDelta } from '../math/black-scholes.ts';
import { isCall, isOption } from '../portfolios/position.ts';
import { computeBetas } from './engine.ts';
import { proxySymbols, ridgeFactors, type FactorModel } from './model.ts';
import { row, windowRange, type ReturnsPanel } from './panel.ts';
import { loadPanel } from './store.ts';

/**
 * The legacy, per-position path, kept only for the dual-write transition: for every open position
 * it loads its own symbol's prices and runs the regressions for that symbol alone, as the old system
 * did, and writes `position_factor_exposures` (an option's row: delta × the underlying's beta).
 * Deliberately not universe-first; `compare` (a later phase) checks it against the symbol table.
 */

export interface OptionSettings {
  /** Continuously compounded risk-free rate for Black–Scholes. */
  riskFreeRate: number;
  /** Volatility when neither an implied nor a realised one is available. */
  fallbackVol: number;
}

export const DEFAULT_OPTION_SETTINGS: OptionSettings = { riskFreeRate: 0.045, fallbackVol: 0.25 };

interface OpenPosition {
  id: number;
  portfolio_id: number;
  symbol: string;
  position_type: PositionType;
  underlying_symbol: string | null;
  strike_price: number | null;
  expiration_date: string | null;
  implied_volatility: number | null;
}

/** Annualised realised volatility of a symbol over the ridge window: sample std(r) × √252. */
export function realisedVol(
  panel: ReturnsPanel,
  s: number,
  end: number,
  windowDays: number,
): number | undefined {
  const [from, to] = windowRange(panel, end, windowDays);
  const r = row(panel, s);
  const xs: number[] = [];
  for (let t = from; t < to; t++) if (!Number.isNaN(r[t]!)) xs.push(r[t]!);
  if (xs.length < 2) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return v > 0 ? Math.sqrt(v * 252) : undefined;
}

export async function runPositionExposures(
  db: Kysely<Database>,
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  options: OptionSettings = DEFAULT_OPTION_SETTINGS,
): Promise<{ positions: number; rows: number }> {
  const positions = await db
    .selectFrom('positions')
    .select([
      'id',
      'portfolio_id',
      'symbol',
      'position_type',
      'underlying_symbol',
      'strike_price',
      'expiration_date',
      'implied_volatility',
    ])
    .where((eb) => eb.or([eb('entry_date', 'is', null), eb('entry_date', '<=', date)]))
    .where((eb) => eb.or([eb('exit_date', 'is', null), eb('exit_date', '>', date)]))
    .where((eb) => eb.or([eb('expiration_date', 'is', null), eb('expiration_date', '>', date)]))
    .orderBy('id')
    .execute();
  const lookback = Math.max(...model.factors.map((f) => f.windowDays));
  const ridgeWindow = ridgeFactors(model)[0]?.windowDays ?? 365;
  let written = 0;
  for (const p of positions as OpenPosition[]) {
    const option = isOption(p.position_type);
    const betaSymbol = option ? p.underlying_symbol! : p.symbol;
    // One price load and one regression per position: the cost the universe-first path removes.
    const panel = await loadPanel(pool, model, date, date, lookback, [betaSymbol, ...proxySymbols(model)]);
    const s = panel.symbols.indexOf(betaSymbol);
    const end = panel.dates.length - 1;
    if (s < 0 || panel.dates[end] !== date) continue;
    const out = computeBetas(panel, model, end, [s]);
    let delta: number | null = null;
    if (option) {
      const spot = (
        await pool.query<{ close: number }>(
          'SELECT close FROM market_data_cache WHERE symbol = $1 AND date = $2',
          [betaSymbol, date],
        )
      ).rows[0]?.close;
      if (spot === undefined) continue; // no underlying price on D: no delta
      const vol = p.implied_volatility ?? realisedVol(panel, s, end, ridgeWindow) ?? options.fallbackVol;
      delta = bsDelta({
        call: isCall(p.position_type),
        spot,
        strike: p.strike_price!,
        years: (toDayNumber(p.expiration_date!) - toDayNumber(date)) / 365,
        rate: options.riskFreeRate,
        vol,
      });
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
            p.portfolio_id,
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
