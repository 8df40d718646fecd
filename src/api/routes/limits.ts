import type {} from '../deps.ts';
import type pg from 'pg';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMIT_METRICS } from '../../portfolios/limits.ts';
import {
  BenchmarkProblem,
  breachCounts,
  createLimit,
  deleteLimit,
  exposureHistory,
  listBreaches,
  listLimits,
  newestComputedDate,
  normaliseLimit,
  ownsPortfolio,
  readBenchmark,
  setBenchmark,
  updateLimit,
} from '../../portfolios/limits-repo.ts';
import { ApiError } from '../errors.ts';
import { errors, Id, IsoDate, Nullable, Offset, PLAIN_TEXT, StringEnum } from '../schemas.ts';

/**
 * Benchmarks, exposure history, limits and breaches of a portfolio (METHODOLOGY.md 15). Another
 * user's portfolio answers 404, exactly like one that does not exist.
 */
const IdParams = Type.Object({ id: Id });
const LimitParams = Type.Object({ id: Id, limit_id: Id });
const Symbol = Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9.^=-]+$' });
const Benchmark = Type.Union([
  Type.Object({ symbol: Symbol }, { additionalProperties: false }),
  Type.Object({ portfolio_id: Id }, { additionalProperties: false }),
]);
const Bound = Nullable(Type.Number({ minimum: -1e12, maximum: 1e12 }));
const LimitBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: PLAIN_TEXT }),
    metric: StringEnum(LIMIT_METRICS),
    factor: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
    method: Type.Optional(Nullable(StringEnum(['parametric', 'historical'] as const))),
    confidence: Type.Optional(Nullable(Type.Number())),
    lower: Type.Optional(Bound),
    upper: Type.Optional(Bound),
  },
  { additionalProperties: false },
);
const LimitOut = Type.Object({
  id: Type.Integer(),
  portfolio_id: Type.Integer(),
  name: Type.String(),
  metric: Type.String(),
  factor: Nullable(Type.String()),
  method: Nullable(Type.String()),
  confidence: Nullable(Type.Number()),
  lower: Nullable(Type.Number()),
  upper: Nullable(Type.Number()),
});
const Range = Type.Object({ from: Type.Optional(IsoDate), to: Type.Optional(IsoDate) });
const Page = {
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  offset: Offset,
};
const NumberMap = Type.Record(Type.String(), Nullable(Type.Number()));

const today = () => new Date().toISOString().slice(0, 10);
const yearBefore = (d: string) => {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCFullYear(t.getUTCFullYear() - 1);
  return t.toISOString().slice(0, 10);
};
/**
 * [from, to]; by default the year to the portfolio's newest computed date (to today when none): data
 * that ends in the past, like the real S&P 500 closes, would otherwise show an empty year.
 */
const range = async (pool: pg.Pool, id: number, q: { from?: string; to?: string }) => {
  const to = q.to ?? (await newestComputedDate(pool, id)) ?? today();
  const from = q.from ?? yearBefore(to);
  if (from > to) throw new ApiError(400, 'bad_request', `from (${from}) is after to (${to})`);
  return { from, to };
};

export const limitRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, config } = app.deps;
  const owned = async (id: number, owner: number) => {
    if (!(await ownsPortfolio(pool, id, owner))) throw new ApiError(404, 'not_found', `no portfolio ${id}`);
  };
  /** The repository's problems as API errors. */
  const answer = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      if (e instanceof BenchmarkProblem)
        throw new ApiError(e.status, e.status === 404 ? 'not_found' : 'bad_request', e.message, e.details);
      throw e;
    }
  };
  const benchmarkOf = async (id: number) =>
    (await readBenchmark(pool, id)) ?? { symbol: config.benchmark, default: true as const };

  app.get(
    '/breach-counts',
    {
      schema: {
        summary: "Breaches on each portfolio's newest computed date (list badges)",
        response: {
          200: Type.Object({
            portfolios: Type.Array(
              Type.Object({
                portfolio_id: Type.Integer(),
                date: Nullable(Type.String()),
                breaches: Type.Integer(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => ({ portfolios: await breachCounts(pool, request.user.sub) }),
  );

  app.get(
    '/:id/benchmark',
    {
      schema: {
        summary: "The portfolio's benchmark (`default: true` when none is set: the configured one)",
        params: IdParams,
        response: {
          200: Type.Object({
            benchmark: Type.Object({
              symbol: Type.Optional(Type.String()),
              portfolio_id: Type.Optional(Type.Integer()),
              default: Type.Optional(Type.Boolean()),
            }),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      return { benchmark: await benchmarkOf(request.params.id) };
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        summary:
          "Sets the portfolio's benchmark: a symbol, or another portfolio of yours (null: the default)",
        params: IdParams,
        body: Type.Object({ benchmark: Nullable(Benchmark) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            id: Type.Integer(),
            benchmark: Type.Object({
              symbol: Type.Optional(Type.String()),
              portfolio_id: Type.Optional(Type.Integer()),
              default: Type.Optional(Type.Boolean()),
            }),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      await answer(() => setBenchmark(pool, request.params.id, request.user.sub, request.body.benchmark));
      return { id: request.params.id, benchmark: await benchmarkOf(request.params.id) };
    },
  );

  app.get(
    '/:id/exposures/history',
    {
      schema: {
        summary:
          'Exposures and active exposures of every stored date in [from, to] (default: the year to its newest computed date)',
        params: IdParams,
        querystring: Range,
        response: {
          200: Type.Object({
            portfolio_id: Type.Integer(),
            benchmark: Type.Object({
              symbol: Type.Optional(Type.String()),
              portfolio_id: Type.Optional(Type.Integer()),
              default: Type.Optional(Type.Boolean()),
            }),
            total: Type.Integer({ description: 'stored dates in the range; the newest 2,000 are returned' }),
            rows: Type.Array(
              Type.Object({
                date: Type.String(),
                exposures: NumberMap,
                active_exposures: NumberMap,
                tracking_error: Nullable(Type.Number()),
                active_return: Nullable(Type.Number()),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      await owned(id, request.user.sub);
      const { from, to } = await range(pool, id, request.query);
      const h = await exposureHistory(pool, id, from, to, 2000);
      return { portfolio_id: id, benchmark: await benchmarkOf(id), total: h.total, rows: h.rows };
    },
  );

  app.get(
    '/:id/limits',
    {
      schema: {
        summary: "The portfolio's limits, oldest first",
        params: IdParams,
        querystring: Type.Object(Page),
        response: {
          200: Type.Object({ limits: Type.Array(LimitOut), total: Type.Integer() }),
          ...errors,
        },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      return listLimits(pool, request.params.id, request.query.limit, request.query.offset);
    },
  );

  app.post(
    '/:id/limits',
    {
      schema: {
        summary: 'Adds a limit (breaches are found by the next portfolio stage; the past is not recomputed)',
        params: IdParams,
        body: LimitBody,
        response: { 201: LimitOut, ...errors },
      },
    },
    async (request, reply) => {
      await owned(request.params.id, request.user.sub);
      const l = await answer(async () =>
        createLimit(pool, request.params.id, await normaliseLimit(pool, request.body)),
      );
      return reply.code(201).send(l);
    },
  );

  app.put(
    '/:id/limits/:limit_id',
    {
      schema: {
        summary: "Replaces a limit's fields (stored breaches keep the bounds they were found with)",
        params: LimitParams,
        body: LimitBody,
        response: { 200: LimitOut, ...errors },
      },
    },
    async (request) => {
      const { id, limit_id } = request.params;
      await owned(id, request.user.sub);
      const l = await answer(async () =>
        updateLimit(pool, id, limit_id, await normaliseLimit(pool, request.body)),
      );
      if (!l) throw new ApiError(404, 'not_found', `no limit ${limit_id} on portfolio ${id}`);
      return l;
    },
  );

  app.delete(
    '/:id/limits/:limit_id',
    {
      schema: {
        summary: 'Deletes a limit and its breaches',
        params: LimitParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { id, limit_id } = request.params;
      await owned(id, request.user.sub);
      if (!(await deleteLimit(pool, id, limit_id)))
        throw new ApiError(404, 'not_found', `no limit ${limit_id} on portfolio ${id}`);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:id/breaches',
    {
      schema: {
        summary: 'Breaches in [from, to] (default: the year to its newest computed date), newest first',
        params: IdParams,
        querystring: Type.Object({ ...Range.properties, ...Page }),
        response: {
          200: Type.Object({
            breaches: Type.Array(
              Type.Object({
                limit_id: Type.Integer(),
                name: Type.String(),
                date: Type.String(),
                value: Type.Number(),
                lower: Nullable(Type.Number()),
                upper: Nullable(Type.Number()),
              }),
            ),
            total: Type.Integer(),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      await owned(id, request.user.sub);
      const { from, to } = await range(pool, id, request.query);
      return listBreaches(pool, id, from, to, request.query.limit, request.query.offset);
    },
  );
};
