import type { Kysely } from 'kysely';
import type pg from 'pg';
import { copyBinary, type BinaryColumn } from '../db/copy.ts';
import { deleteDayKeys } from '../db/day-keys.ts';
import type { Database } from '../db/schema.ts';
import type { FactorModel } from '../factors/model.ts';
import type { PortfolioExposure } from './exposures.ts';
import type { Snapshot } from './snapshot.ts';
import type { HeldPosition, PositionValue } from './valuation.ts';

export interface PortfolioPosition extends HeldPosition {
  portfolioId: number;
}

/**
 * Positions that count on `date` (METHODOLOGY.md §9), of all or some portfolios, in one query:
 * entered on or before it and not exited before it. A position exited on `date` is included: it
 * books its last move but is not held at the close (`isHeld`).
 */
export async function openPositions(
  db: Kysely<Database>,
  date: string,
  portfolioIds?: readonly number[],
): Promise<PortfolioPosition[]> {
  let q = db
    .selectFrom('positions')
    .selectAll()
    .where((eb) => eb.or([eb('entry_date', 'is', null), eb('entry_date', '<=', date)]))
    .where((eb) => eb.or([eb('exit_date', 'is', null), eb('exit_date', '>=', date)]));
  if (portfolioIds) q = q.where('portfolio_id', 'in', portfolioIds.length ? portfolioIds : [-1]);
  const rows = await q.orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    portfolioId: r.portfolio_id,
    symbol: r.symbol,
    positionType: r.position_type,
    quantity: r.quantity,
    entryPrice: r.entry_price,
    entryDate: r.entry_date,
    exitDate: r.exit_date,
    underlyingSymbol: r.underlying_symbol,
    strikePrice: r.strike_price,
    expirationDate: r.expiration_date,
    multiplier: r.multiplier,
    impliedVolatility: r.implied_volatility,
  }));
}

/** Each portfolio's latest snapshot before `date` (equity and cumulative P&L to roll forward). */
export async function previousSnapshots(
  pool: pg.Pool,
  date: string,
  ids: readonly number[],
): Promise<Map<number, { equity: number; cumulativePnl: number }>> {
  const { rows } = await pool.query<{ portfolio_id: number; equity: number; cumulative_pnl: number | null }>(
    `SELECT DISTINCT ON (portfolio_id) portfolio_id, equity, cumulative_pnl FROM portfolio_snapshots
      WHERE snapshot_date < $1 AND portfolio_id = ANY($2) ORDER BY portfolio_id, snapshot_date DESC`,
    [date, ids],
  );
  return new Map(
    rows.map((r) => [r.portfolio_id, { equity: r.equity, cumulativePnl: r.cumulative_pnl ?? 0 }]),
  );
}

export type BetaLookup = Map<string | number, Float64Array>;

/**
 * The symbol betas of the newest calculation date on or before `date` for the given symbols: one
 * query. Returns that date and symbol → betas in the model's factor order (NaN where missing).
 */
export async function loadSymbolBetas(
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  symbols: readonly string[],
): Promise<{ betasDate: string | null; betas: BetaLookup }> {
  // The date's wide rows (migration 0010): one per symbol, betas subscripted by factor id.
  const { rows } = await pool.query<{ symbol: string; beta: (number | null)[] | null; d: string }>(
    `SELECT symbol, beta, calculation_date::text AS d FROM symbol_day_factors
      WHERE calculation_date = (SELECT max(calculation_date) FROM symbol_day_factors WHERE calculation_date <= $1)
        AND symbol = ANY($2) AND beta IS NOT NULL`,
    [date, symbols],
  );
  const betas: BetaLookup = new Map();
  for (const r of rows) {
    const v = new Float64Array(model.factors.length).fill(NaN);
    let any = false;
    model.factors.forEach((f, i) => {
      const b = r.beta![f.id - 1];
      if (b === null || b === undefined) return;
      v[i] = b;
      any = true;
    });
    if (any) betas.set(r.symbol, v); // a symbol with skips only has no betas, as before
  }
  return { betasDate: rows[0]?.d ?? null, betas };
}

/** The legacy per-position betas (the underlying's beta, before delta) of `date`, keyed by position id. */
export async function loadPositionBetas(
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  positionIds: readonly number[],
): Promise<BetaLookup> {
  const column = new Map(model.factors.map((f, i) => [f.id, i]));
  const { rows } = await pool.query<{ position_id: number; factor_id: number; beta: number }>(
    'SELECT position_id, factor_id, beta FROM position_factor_exposures WHERE calculation_date = $1 AND position_id = ANY($2)',
    [date, positionIds],
  );
  return pivot(
    rows.map((r) => [r.position_id, r.factor_id, r.beta]),
    column,
  );
}

function pivot(rows: [string | number, number, number][], column: Map<number, number>): BetaLookup {
  const out: BetaLookup = new Map();
  for (const [key, factorId, beta] of rows) {
    const i = column.get(factorId);
    if (i === undefined) continue;
    let b = out.get(key);
    if (!b) out.set(key, (b = new Float64Array(column.size).fill(NaN)));
    b[i] = beta;
  }
  return out;
}

const POSITION_VALUE_COLUMNS: readonly BinaryColumn[] = [
  { name: 'position_id', type: 'int4' },
  { name: 'value_date', type: 'date' },
  { name: 'portfolio_id', type: 'int4' },
  ...(
    ['price', 'market_value', 'exposure', 'weight', 'delta', 'gamma', 'vega', 'theta', 'volatility'] as const
  ).map((name) => ({ name, type: 'float8' as const })),
  { name: 'volatility_source', type: 'text' },
  { name: 'years_to_expiry', type: 'float8' },
  { name: 'pnl', type: 'float8' },
  { name: 'pnl_method', type: 'text' },
];

export interface PortfolioDay {
  portfolioId: number;
  values: PositionValue[];
  snapshot: Snapshot;
  exposure: PortfolioExposure;
}

/** One date's computed portfolio days, with what their rows record beside them. */
export interface DatedPortfolioDays {
  date: string;
  model: FactorModel;
  betasDate: string | null;
  source: 'symbol' | 'position';
  days: readonly PortfolioDay[];
}

/**
 * Writes the results of portfolios on one or several dates in the caller's transaction, one
 * statement per table whatever the number of dates: position values replaced by a delete of the
 * (date, portfolio) pairs and a binary COPY, the other tables as bulk upserts.
 */
export async function savePortfolioDays(
  client: pg.ClientBase,
  dated: readonly DatedPortfolioDays[],
): Promise<void> {
  const pairs = await deleteDayKeys(
    client,
    { table: 'position_daily_values', dateColumn: 'value_date', keyColumn: 'portfolio_id', keyType: 'int4' },
    dated.map((e) => ({ date: e.date, keys: e.days.map((d) => d.portfolioId) })),
  );
  if (pairs === 0) return;
  await copyBinary(
    client,
    'position_daily_values',
    POSITION_VALUE_COLUMNS,
    dated.flatMap(({ date, days }) =>
      days.flatMap((d) =>
        d.values.map((v) => [
          v.positionId,
          date,
          d.portfolioId,
          v.price,
          v.marketValue,
          v.exposure,
          v.exposure === null ? null : v.exposure / d.snapshot.equity,
          v.option?.delta ?? null,
          v.option?.gamma ?? null,
          v.option?.vega ?? null,
          v.option?.theta ?? null,
          v.option?.vol ?? null,
          v.option?.volSource ?? null,
          v.option?.years ?? null,
          v.pnl,
          v.pnlMethod,
        ]),
      ),
    ),
  );
  const snaps = dated.flatMap(({ date, days }) =>
    days.map((d) => ({ date, id: d.portfolioId, ...d.snapshot })),
  );
  await client.query(
    `INSERT INTO portfolio_snapshots AS s (portfolio_id, snapshot_date, equity, total_value, cash, long_exposure, short_exposure,
       gross_exposure, net_exposure, daily_pnl, daily_return, cumulative_pnl, portfolio_delta, positions_count, missing_prices)
     SELECT id, d, e, tv, c, le, se, ge, ne, dp, dr, cp, pd, n, mp
       FROM unnest($1::date[], $2::int[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[],
                   $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::int[], $15::jsonb[])
         AS x(d, id, e, tv, c, le, se, ge, ne, dp, dr, cp, pd, n, mp)
     ON CONFLICT (portfolio_id, snapshot_date) DO UPDATE SET
       equity = EXCLUDED.equity, total_value = EXCLUDED.total_value, cash = EXCLUDED.cash,
       long_exposure = EXCLUDED.long_exposure, short_exposure = EXCLUDED.short_exposure,
       gross_exposure = EXCLUDED.gross_exposure, net_exposure = EXCLUDED.net_exposure, daily_pnl = EXCLUDED.daily_pnl,
       daily_return = EXCLUDED.daily_return, cumulative_pnl = EXCLUDED.cumulative_pnl,
       portfolio_delta = EXCLUDED.portfolio_delta, positions_count = EXCLUDED.positions_count,
       missing_prices = EXCLUDED.missing_prices, computed_at = now()`,
    [
      snaps.map((s) => s.date),
      snaps.map((s) => s.id),
      snaps.map((s) => s.equity),
      snaps.map((s) => s.totalValue),
      snaps.map((s) => s.cash),
      snaps.map((s) => s.longExposure),
      snaps.map((s) => s.shortExposure),
      snaps.map((s) => s.grossExposure),
      snaps.map((s) => s.netExposure),
      snaps.map((s) => s.dailyPnl),
      snaps.map((s) => s.dailyReturn),
      snaps.map((s) => s.cumulativePnl),
      snaps.map((s) => s.portfolioDelta),
      snaps.map((s) => s.positionsCount),
      snaps.map((s) => JSON.stringify(s.missingPrices)),
    ],
  );
  const exp = dated.flatMap(({ date, model, betasDate, source, days }) =>
    days.flatMap((d) =>
      model.factors.map((f, i) => ({
        date,
        source,
        betasDate,
        portfolioId: d.portfolioId,
        factorId: f.id,
        value: d.exposure.exposure[i]!,
        dollar: d.exposure.dollar[i]!,
        equity: d.snapshot.equity,
        total: d.snapshot.positionsCount,
        missing: JSON.stringify(
          d.exposure.missing[i]!.map((m) => ({ position_id: m.positionId, symbol: m.symbol })),
        ),
      })),
    ),
  );
  await client.query(
    `INSERT INTO factor_exposures AS e (portfolio_id, factor_id, calculation_date, source, exposure_value, exposure_dollar,
       equity, betas_date, positions_total, positions_missing)
     SELECT p, f, d, s, v, dl, eq, bd, n, m
       FROM unnest($1::date[], $2::text[], $3::date[], $4::int[], $5::int2[], $6::float8[], $7::float8[], $8::float8[],
                   $9::int[], $10::jsonb[]) AS x(d, s, bd, p, f, v, dl, eq, n, m)
     ON CONFLICT (portfolio_id, factor_id, calculation_date, source) DO UPDATE SET
       exposure_value = EXCLUDED.exposure_value, exposure_dollar = EXCLUDED.exposure_dollar, equity = EXCLUDED.equity,
       betas_date = EXCLUDED.betas_date, positions_total = EXCLUDED.positions_total,
       positions_missing = EXCLUDED.positions_missing, computed_at = now()`,
    [
      exp.map((e) => e.date),
      exp.map((e) => e.source),
      exp.map((e) => e.betasDate),
      exp.map((e) => e.portfolioId),
      exp.map((e) => e.factorId),
      exp.map((e) => e.value),
      exp.map((e) => e.dollar),
      exp.map((e) => e.equity),
      exp.map((e) => e.total),
      exp.map((e) => e.missing),
    ],
  );
}
