import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { readExposureParts } from '../../portfolios/exposure-drilldown.ts';
import { inceptionSql } from '../../portfolios/inception.ts';
import { readBenchmark } from '../../portfolios/limits-repo.ts';
import { POSITION_VALUE_NUMBERS, readPositionValues } from '../../portfolios/position-values.ts';
import { ApiError } from '../errors.ts';
import { errors, Id, IsoDate, Nullable, Offset, StringEnum } from '../schemas.ts';

const IdParams = Type.Object({ id: Id });
const Portfolio = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  currency: Type.String(),
  equity_balance: Type.Number(),
});
/** A portfolio in the list, with its newest snapshot's equity (the current one, not the starting balance). */
const PortfolioListed = Type.Object({
  ...Portfolio.properties,
  current_equity: Nullable(Type.Number({ description: "the newest snapshot's equity" })),
  current_date: Nullable(Type.String({ description: 'the date of that snapshot' })),
});
const BenchmarkOut = Type.Object({
  symbol: Type.Optional(Type.String()),
  portfolio_id: Type.Optional(Type.Integer()),
  default: Type.Optional(Type.Boolean()),
});
const Missing = Type.Array(Type.Object({ position_id: Type.Integer(), symbol: Type.String() }));

/**
 * A user's portfolios and what the batch computed for them. Another user's portfolio answers 404,
 * exactly like one that does not exist: its existence is not revealed.
 */
export const portfolioRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  const owned = async (id: number, owner: number) => {
    const p = await db
      .selectFrom('portfolios')
      .select(['id', 'name', 'currency', 'equity_balance'])
      .where('id', '=', id)
      .where('owner_id', '=', owner)
      .executeTakeFirst();
    if (!p) throw new ApiError(404, 'not_found', `no portfolio ${id}`);
    return p;
  };
  /** The date asked for, or the newest one with rows in `table` for the portfolio. */
  const dateOr = async (date: string | undefined, id: number, table: 'position_factor_exposures') =>
    date ??
    (
      await db
        .selectFrom(table)
        .select((eb) => eb.fn.max('calculation_date').as('d'))
        .where('portfolio_id', '=', id)
        .executeTakeFirst()
    )?.d ??
    null;

  app.get(
    '/',
    {
      schema: {
        summary: "The signed-in user's portfolios",
        response: { 200: Type.Object({ portfolios: Type.Array(PortfolioListed) }), ...errors },
      },
    },
    async (request) => ({
      portfolios: await db
        .selectFrom('portfolios as p')
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom('portfolio_snapshots as s')
              .select(['s.equity', sql<string>`s.snapshot_date::text`.as('snapshot_date')])
              .whereRef('s.portfolio_id', '=', 'p.id')
              .orderBy('s.snapshot_date', 'desc')
              .limit(1)
              .as('last'),
          (join) => join.onTrue(),
        )
        .select([
          'p.id',
          'p.name',
          'p.currency',
          'p.equity_balance',
          'last.equity as current_equity',
          'last.snapshot_date as current_date',
        ])
        .where('p.owner_id', '=', request.user.sub)
        .orderBy('p.id')
        .execute(),
    }),
  );

  app.get(
    '/:id',
    {
      schema: {
        params: IdParams,
        response: { 200: Type.Object({ ...Portfolio.properties, benchmark: BenchmarkOut }), ...errors },
      },
    },
    async (request) => ({
      ...(await owned(request.params.id, request.user.sub)),
      // METHODOLOGY.md 15: none set means the configured default (FU_BENCHMARK)
      benchmark: (await readBenchmark(app.deps.pool, request.params.id)) ?? {
        symbol: app.deps.config.benchmark,
        default: true,
      },
    }),
  );

  app.get(
    '/:id/positions',
    {
      schema: {
        params: IdParams,
        response: {
          200: Type.Object({
            positions: Type.Array(
              Type.Object({
                id: Type.Integer(),
                symbol: Type.String(),
                position_type: Type.String(),
                quantity: Type.Number(),
                entry_price: Nullable(Type.Number()),
                entry_date: Nullable(Type.String()),
                exit_date: Nullable(Type.String()),
                underlying_symbol: Nullable(Type.String()),
                strike_price: Nullable(Type.Number()),
                expiration_date: Nullable(Type.String()),
                multiplier: Type.Number(),
                implied_volatility: Nullable(Type.Number()),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      return {
        positions: await db
          .selectFrom('positions')
          .select([
            'id',
            'symbol',
            'position_type',
            'quantity',
            'entry_price',
            'entry_date',
            'exit_date',
            'underlying_symbol',
            'strike_price',
            'expiration_date',
            'multiplier',
            'implied_volatility',
          ])
          .where('portfolio_id', '=', request.params.id)
          .orderBy('id')
          .execute(),
      };
    },
  );

  app.get(
    '/:id/positions/values',
    {
      schema: {
        summary:
          'Positions valued on a date (default: the newest): price, market value, exposure, weight, Greeks, day P&L',
        params: IdParams,
        querystring: Type.Object({ date: Type.Optional(IsoDate) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            date: Nullable(Type.String()),
            positions: Type.Array(
              Type.Object({
                position_id: Type.Integer(),
                symbol: Type.String(),
                position_type: Type.String(),
                quantity: Type.Number(),
                beta_symbol: Type.String(),
                underlying_symbol: Nullable(Type.String()),
                strike_price: Nullable(Type.Number()),
                expiration_date: Nullable(Type.String()),
                entry_date: Nullable(Type.String()),
                exit_date: Nullable(Type.String()),
                multiplier: Type.Number(),
                status: StringEnum(['held', 'expired', 'exited', 'not_entered'] as const, {
                  description: 'on the date: held at its close, or why not',
                }),
                ...Object.fromEntries(POSITION_VALUE_NUMBERS.map((c) => [c, Nullable(Type.Number())])),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      return readPositionValues(app.deps.pool, request.params.id, request.query.date);
    },
  );

  app.get(
    '/:id/factor-exposures',
    {
      schema: {
        summary:
          'Portfolio factor exposures on a date (default: the newest), with the positions that lacked a beta',
        params: IdParams,
        querystring: Type.Object(
          {
            date: Type.Optional(IsoDate),
            source: Type.Optional(Type.Union([Type.Literal('symbol'), Type.Literal('position')])),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            portfolio_id: Type.Integer(),
            date: Nullable(Type.String()),
            betas_date: Nullable(Type.String()),
            equity: Nullable(Type.Number()),
            exposures: Type.Array(
              Type.Object({
                factor: Type.String(),
                exposure: Type.Number(),
                dollar_exposure: Type.Number(),
                positions_missing: Missing,
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const source = request.query.source ?? 'symbol';
      // One round trip: ownership, the date (asked for, or the newest of this source) and the rows.
      // A portfolio that is not the user's gives no row at all; one without exposures gives one
      // row of nulls.
      const { rows } = await sql<{
        date: string | null;
        factor: string | null;
        exposure: number | null;
        dollar_exposure: number | null;
        positions_missing: { position_id: number; symbol: string }[] | null;
        betas_date: string | null;
        equity: number | null;
      }>`
        SELECT d.date::text AS date, f.name AS factor, e.exposure_value AS exposure,
               e.exposure_dollar AS dollar_exposure, e.positions_missing, e.betas_date::text AS betas_date, e.equity
          FROM portfolios p
          CROSS JOIN LATERAL (
            SELECT coalesce(${request.query.date ?? null}::date, max(calculation_date)) AS date
              FROM factor_exposures WHERE portfolio_id = p.id AND source = ${source}) d
          LEFT JOIN factor_exposures e
            ON e.portfolio_id = p.id AND e.calculation_date = d.date AND e.source = ${source}
          LEFT JOIN factor_definitions f ON f.id = e.factor_id
         WHERE p.id = ${id} AND p.owner_id = ${request.user.sub}
         ORDER BY f.display_order`.execute(db);
      if (rows.length === 0) throw new ApiError(404, 'not_found', `no portfolio ${id}`);
      const found = rows.filter((r) => r.factor !== null);
      return {
        portfolio_id: id,
        date: rows[0]!.date,
        betas_date: found[0]?.betas_date ?? null,
        equity: found[0]?.equity ?? null,
        exposures: found.map((r) => ({
          factor: r.factor!,
          exposure: r.exposure!,
          dollar_exposure: r.dollar_exposure!,
          positions_missing: r.positions_missing!,
        })),
      };
    },
  );

  app.get(
    '/:id/factor-exposures/:factor/positions',
    {
      schema: {
        summary:
          'The positions behind one factor exposure on a date (default: the newest): weight × beta each, adding up to the exposure',
        params: Type.Object({
          id: Id,
          factor: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z /-]*$' }),
        }),
        querystring: Type.Object({ date: Type.Optional(IsoDate) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            date: Type.String(),
            betas_date: Nullable(Type.String()),
            factor: Type.String(),
            exposure: Type.Number(),
            positions: Type.Array(
              Type.Object({
                position_id: Type.Integer(),
                symbol: Type.String(),
                position_type: Type.String(),
                beta_symbol: Type.String(),
                weight: Nullable(Type.Number()),
                dollar_exposure: Nullable(Type.Number()),
                beta: Nullable(Type.Number()),
                contribution: Nullable(Type.Number()),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id, factor } = request.params;
      await owned(id, request.user.sub);
      const parts = await readExposureParts(app.deps.pool, id, factor, request.query.date);
      if (!parts)
        throw new ApiError(404, 'not_found', `no exposure to "${factor}" for portfolio ${id} on that date`);
      return parts;
    },
  );

  app.get(
    '/:id/positions/factor-exposures',
    {
      schema: {
        summary: 'Per-position factor exposures (the legacy table) on a date, paged',
        params: IdParams,
        querystring: Type.Object(
          {
            date: Type.Optional(IsoDate),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            offset: Type.Optional(Offset),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            date: Nullable(Type.String()),
            total_count: Type.Integer(),
            rows: Type.Array(
              Type.Object({
                position_id: Type.Integer(),
                symbol: Type.String(),
                beta_symbol: Type.String(),
                factor: Type.String(),
                exposure_value: Type.Number(),
                beta: Type.Number(),
                delta: Nullable(Type.Number()),
                r_squared: Nullable(Type.Number()),
                observations: Type.Integer(),
                quality_flag: Type.String(),
                is_option: Type.Boolean(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { limit = 100, offset = 0 } = request.query;
      await owned(id, request.user.sub);
      const date = await dateOr(request.query.date, id, 'position_factor_exposures');
      if (!date) return { date: null, total_count: 0, rows: [] };
      const base = db
        .selectFrom('position_factor_exposures as p')
        .where('p.portfolio_id', '=', id)
        .where('p.calculation_date', '=', date);
      const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await base
        .innerJoin('factor_definitions as f', 'f.id', 'p.factor_id')
        .select([
          'p.position_id',
          'p.symbol',
          'p.beta_symbol',
          'f.name as factor',
          'p.exposure_value',
          'p.beta',
          'p.delta',
          'p.r_squared',
          'p.observations',
          'p.quality_flag',
          'p.is_option',
        ])
        .orderBy('p.position_id')
        .orderBy('f.display_order')
        .limit(limit)
        .offset(offset)
        .execute();
      return { date, total_count: Number(n), rows };
    },
  );

  app.get(
    '/:id/snapshots',
    {
      schema: {
        summary: "A portfolio's daily snapshots from its inception (its earliest entry date), oldest first",
        params: IdParams,
        querystring: Type.Object(
          { from: Type.Optional(IsoDate), to: Type.Optional(IsoDate) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            snapshots: Type.Array(
              Type.Object({
                date: Type.String(),
                equity: Type.Number(),
                total_value: Type.Number(),
                cash: Type.Number(),
                long_exposure: Type.Number(),
                short_exposure: Type.Number(),
                gross_exposure: Type.Number(),
                net_exposure: Type.Number(),
                daily_pnl: Nullable(Type.Number()),
                daily_return: Nullable(Type.Number()),
                cumulative_pnl: Nullable(Type.Number()),
                portfolio_delta: Nullable(Type.Number()),
                positions_count: Type.Integer(),
                missing_prices: Missing,
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { from = '0001-01-01', to = '9999-12-31' } = request.query;
      if (from > to) throw new ApiError(400, 'bad_request', 'querystring parameter "from" is after "to"');
      await owned(id, request.user.sub);
      return {
        snapshots: await db
          .selectFrom('portfolio_snapshots')
          .select([
            'snapshot_date as date',
            'equity',
            'total_value',
            'cash',
            'long_exposure',
            'short_exposure',
            'gross_exposure',
            'net_exposure',
            'daily_pnl',
            'daily_return',
            'cumulative_pnl',
            'portfolio_delta',
            'positions_count',
            'missing_prices',
          ])
          .where('portfolio_id', '=', id)
          .where('snapshot_date', '>=', from)
          .where('snapshot_date', '<=', to)
          // snapshots an older run wrote before the portfolio existed are not its history
          .where(
            sql<boolean>`snapshot_date >= coalesce(${inceptionSql('portfolio_snapshots.portfolio_id')}, '-infinity'::date)`,
          )
          .orderBy('snapshot_date')
          .execute(),
      };
    },
  );
};
