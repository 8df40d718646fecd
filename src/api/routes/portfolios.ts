import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { readExposureParts } from '../../portfolios/exposure-drilldown.ts';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { POSITION_VALUE_NUMBERS, type PositionValueRow } from '../../portfolios/position-values.ts';
import { readBenchmark } from '../../portfolios/limits-repo.ts';
import { ApiError } from '../errors.ts';
import {
  positionValueChunks,
  positionValueDate,
  readPortfoliosPage,
  readPositionsPage,
  readPositionValuesPage,
  readSnapshotsPage,
} from '../read/portfolios.ts';
import {
  errors,
  Id,
  IsoDate,
  LIST_PAGE,
  Nullable,
  Offset,
  pageQuery,
  PageFields,
  StringEnum,
} from '../schemas.ts';

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
const ListPage = Type.Object(pageQuery(LIST_PAGE.byDefault, LIST_PAGE.max), { additionalProperties: false });
const pageOf = (q: { limit?: number; offset?: number }) => ({
  limit: q.limit ?? LIST_PAGE.byDefault,
  offset: q.offset ?? 0,
});

const CSV_COLUMNS = [
  'position_id',
  'symbol',
  'position_type',
  'quantity',
  'beta_symbol',
  ...POSITION_VALUE_NUMBERS,
] as const;

/** A CSV field: quoted when it holds a separator, a quote or a line break; a formula prefix defused. */
function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV lines of the whole list, header first, a chunk of rows at a time. */
async function* csvLines(chunks: AsyncGenerator<PositionValueRow[]>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\n`;
  for await (const rows of chunks)
    yield rows.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(',')).join('\n') + '\n';
}

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
        summary: "The signed-in user's portfolios, a page at a time",
        querystring: ListPage,
        response: {
          200: Type.Object({ portfolios: Type.Array(PortfolioListed), ...PageFields }),
          ...errors,
        },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      return { ...(await readPortfoliosPage(db, request.user.sub, page)), ...page };
    },
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
        summary: "A portfolio's positions by id, a page at a time",
        params: IdParams,
        querystring: ListPage,
        response: {
          200: Type.Object({
            ...PageFields,
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
      const page = pageOf(request.query);
      return { ...(await readPositionsPage(db, request.params.id, page)), ...page };
    },
  );

  app.get(
    '/:id/positions/values',
    {
      schema: {
        summary:
          'Positions valued on a date (default: the newest): price, market value, exposure, weight, Greeks, day P&L; largest exposure first, a page at a time',
        params: IdParams,
        querystring: Type.Object(
          { date: Type.Optional(IsoDate), ...pageQuery(LIST_PAGE.byDefault, LIST_PAGE.max) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            date: Nullable(Type.String()),
            ...PageFields,
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
      const page = pageOf(request.query);
      return {
        ...(await readPositionValuesPage(app.deps.pool, request.params.id, request.query.date, page)),
        ...page,
      };
    },
  );

  app.get(
    '/:id/positions/values.csv',
    {
      schema: {
        summary:
          'Every position valued on a date (default: the newest), as CSV streamed in chunks by position id',
        params: IdParams,
        querystring: Type.Object({ date: Type.Optional(IsoDate) }, { additionalProperties: false }),
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'CSV, header first' }), ...errors },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await owned(id, request.user.sub);
      const date = await positionValueDate(app.deps.pool, id, request.query.date);
      return (reply as FastifyReply)
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="portfolio-${id}-positions-${date ?? 'none'}.csv"`,
        )
        .send(Readable.from(csvLines(positionValueChunks(app.deps.pool, id, date))));
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
        summary:
          "A portfolio's daily snapshots in [from, to] from its inception (its earliest entry date), oldest first, a page at a time",
        params: IdParams,
        querystring: Type.Object(
          {
            from: Type.Optional(IsoDate),
            to: Type.Optional(IsoDate),
            ...pageQuery(LIST_PAGE.byDefault, LIST_PAGE.max),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            ...PageFields,
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
      const page = pageOf(request.query);
      return { ...(await readSnapshotsPage(db, id, from, to, page)), ...page };
    },
  );
};
