import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { sql } from 'kysely';
import type { Static } from 'typebox';
import { TtlCache } from '../cache.ts';
import { addDays } from '../../dates.ts';
import { FACTOR_COLUMNS } from '../../metrics/columns.ts';
import { PERIODS } from '../../metrics/returns.ts';
import { ApiError } from '../errors.ts';
import { errors, IsoDate, Nullable, Offset, PLAIN_TEXT, StringEnum } from '../schemas.ts';

/** Larger than any company's market value or meaningful P/E: `1e308` is a 400 naming the field. */
const MAX_MONEY = 1e15;

/** The only columns a client may sort by: the schema rejects anything else with 400. */
export const SORTABLE = [
  'symbol',
  'sector',
  'market_cap',
  'pe_ratio',
  'ps_ratio',
  ...PERIODS,
  ...FACTOR_COLUMNS,
] as const;
const NUMBER_COLUMNS = [
  'current_price',
  'market_cap',
  'enterprise_value',
  'pe_ratio',
  'ps_ratio',
  'pb_ratio',
  ...PERIODS,
  ...FACTOR_COLUMNS,
  'data_quality_score',
] as const;
const TEXT_COLUMNS = ['company_name', 'sector', 'industry'] as const;

const SymbolRow = Type.Object({
  symbol: Type.String(),
  ...Object.fromEntries(TEXT_COLUMNS.map((c) => [c, Nullable(Type.String())])),
  ...Object.fromEntries(NUMBER_COLUMNS.map((c) => [c, Nullable(Type.Number())])),
});
/** Sector names: letters, spaces and the punctuation GICS uses; anything else (quotes, semicolons) is refused. */
const Sector = Type.String({
  pattern: "^[A-Za-z][A-Za-z &,.'/-]{0,63}$",
  description: 'a sector name, e.g. Information Technology',
});

const ListQuery = Type.Object(
  {
    sort_by: Type.Optional(StringEnum(SORTABLE, { default: 'market_cap' })),
    sort_order: Type.Optional(StringEnum(['asc', 'desc'] as const, { default: 'desc' })),
    sector: Type.Optional(Sector),
    min_market_cap: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_MONEY })),
    max_market_cap: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_MONEY })),
    max_pe_ratio: Type.Optional(Type.Number({ minimum: -1e9, maximum: 1e9 })),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: PLAIN_TEXT,
        description: 'symbol or company name prefix',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    offset: Type.Optional(Offset),
    date: Type.Optional(IsoDate),
  },
  { additionalProperties: false },
);

const ListAnswer = Type.Object({
  symbols: Type.Array(SymbolRow),
  total_count: Type.Integer(),
  metrics_date: Nullable(Type.String()),
});

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The symbol dashboard, one symbol's detail, and the factor definitions. */
export const symbolRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  // The dashboard changes when the batch writes a date: answers are reused for a few seconds, kept
  // as the JSON text the response schema serialized, so a cached answer costs no serialization.
  const { apiCacheMs, apiCacheMaxEntries, apiCacheMaxBytes } = app.deps.config;
  const dashboard = new TtlCache<string | Buffer | ArrayBuffer>(
    apiCacheMs,
    apiCacheMaxEntries,
    apiCacheMaxBytes,
  );
  const latestMetricsDate = async (date?: string) =>
    (
      await db
        .selectFrom('symbol_daily_metrics')
        .select((eb) => eb.fn.max('metric_date').as('d'))
        .$if(date !== undefined, (q) => q.where('metric_date', '<=', date!))
        .executeTakeFirst()
    )?.d ?? null;

  app.get(
    '/symbols',
    {
      schema: {
        summary: 'The symbol dashboard: metrics of every symbol on a date, filtered, sorted and paged',
        querystring: ListQuery,
        response: {
          200: ListAnswer,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const body = await dashboard.get(JSON.stringify(request.query), async () =>
        reply.serialize(await listSymbols(request.query)),
      );
      // already serialized by the 200 schema: sent as is, through the untyped reply
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(body);
    },
  );

  async function listSymbols(params: Static<typeof ListQuery>): Promise<Static<typeof ListAnswer>> {
    const {
      sort_by = 'market_cap',
      sort_order = 'desc',
      sector,
      min_market_cap,
      max_market_cap,
      max_pe_ratio,
      q,
      limit = 100,
      offset = 0,
      date,
    } = params;
    if (min_market_cap !== undefined && max_market_cap !== undefined && min_market_cap > max_market_cap) {
      throw new ApiError(
        400,
        'bad_request',
        'querystring parameter "min_market_cap" is above "max_market_cap"',
      );
    }
    const metricsDate = date ?? (await latestMetricsDate());
    if (!metricsDate) return { symbols: [], total_count: 0, metrics_date: null };
    let query = db.selectFrom('symbol_daily_metrics').where('metric_date', '=', metricsDate);
    if (sector !== undefined) query = query.where('sector', '=', sector);
    if (min_market_cap !== undefined) query = query.where('market_cap', '>=', min_market_cap);
    if (max_market_cap !== undefined) query = query.where('market_cap', '<=', max_market_cap);
    if (max_pe_ratio !== undefined) query = query.where('pe_ratio', '<=', max_pe_ratio);
    if (q !== undefined) {
      const prefix = `${escapeLike(q)}%`;
      query = query.where((eb) =>
        eb.or([eb('symbol', 'ilike', prefix), eb('company_name', 'ilike', prefix)]),
      );
    }
    const direction = sort_order === 'asc' ? sql`ASC` : sql`DESC`;
    const rows = await query
      .select(['symbol', ...TEXT_COLUMNS, ...NUMBER_COLUMNS])
      .select(sql<number>`count(*) OVER ()`.as('total_count'))
      .orderBy(sql`${sql.ref(sort_by)} ${direction} NULLS LAST`)
      .orderBy('symbol')
      .limit(limit)
      .offset(offset)
      .execute();
    let total = Number(rows[0]?.total_count ?? 0);
    if (rows.length === 0 && offset > 0) {
      total = Number(
        (await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
      );
    }
    return {
      symbols: rows.map(({ total_count: _t, ...r }) => r),
      total_count: total,
      metrics_date: metricsDate,
    };
  }

  const Beta = Type.Object({
    factor: Type.String(),
    beta: Type.Number(),
    r_squared: Nullable(Type.Number()),
    observations: Type.Integer(),
    quality_flag: Type.String(),
  });
  app.get(
    '/symbols/:symbol',
    {
      schema: {
        summary:
          "One symbol: metrics, company profile, the betas with R², observations and flags, and the betas' history",
        params: Type.Object({ symbol: Type.String({ pattern: '^[A-Za-z0-9^][A-Za-z0-9.\\-^=_/]{0,31}$' }) }),
        querystring: Type.Object(
          { date: Type.Optional(IsoDate), from: Type.Optional(IsoDate), to: Type.Optional(IsoDate) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            symbol: Type.String(),
            metrics_date: Nullable(Type.String()),
            metrics: Nullable(SymbolRow),
            company: Nullable(
              Type.Object({
                company_name: Nullable(Type.String()),
                sector: Nullable(Type.String()),
                industry: Nullable(Type.String()),
                market_cap: Nullable(Type.Number()),
                enterprise_value: Nullable(Type.Number()),
                pe_ratio: Nullable(Type.Number()),
                ps_ratio: Nullable(Type.Number()),
                pb_ratio: Nullable(Type.Number()),
              }),
            ),
            betas_date: Nullable(Type.String()),
            betas: Type.Array(Beta),
            history: Type.Array(
              Type.Object({
                date: Type.String(),
                factor: Type.String(),
                beta: Type.Number(),
                r_squared: Nullable(Type.Number()),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const symbol = request.params.symbol.toUpperCase();
      const known = await db
        .selectFrom('symbol_universe')
        .select('symbol')
        .where('symbol', '=', symbol)
        .executeTakeFirst();
      if (!known) throw new ApiError(404, 'not_found', `unknown symbol ${symbol}`);
      const metricsDate = await latestMetricsDate(request.query.date);
      const metrics = metricsDate
        ? ((await db
            .selectFrom('symbol_daily_metrics')
            .select(['symbol', ...TEXT_COLUMNS, ...NUMBER_COLUMNS])
            .where('symbol', '=', symbol)
            .where('metric_date', '=', metricsDate)
            .executeTakeFirst()) ?? null)
        : null;
      const company =
        (await db
          .selectFrom('company_profiles')
          .select([
            'company_name',
            'sector',
            'industry',
            'market_cap',
            'enterprise_value',
            'pe_ratio',
            'ps_ratio',
            'pb_ratio',
          ])
          .where('symbol', '=', symbol)
          .executeTakeFirst()) ?? null;
      const betasDate =
        (
          await db
            .selectFrom('symbol_factor_exposures')
            .select((eb) => eb.fn.max('calculation_date').as('d'))
            .where('symbol', '=', symbol)
            .$if(request.query.date !== undefined, (q) =>
              q.where('calculation_date', '<=', request.query.date!),
            )
            .executeTakeFirst()
        )?.d ?? null;
      const betas = betasDate
        ? await db
            .selectFrom('symbol_factor_exposures as e')
            .innerJoin('factor_definitions as f', 'f.id', 'e.factor_id')
            .select(['f.name as factor', 'e.beta', 'e.r_squared', 'e.observations', 'e.quality_flag'])
            .where('e.symbol', '=', symbol)
            .where('e.calculation_date', '=', betasDate)
            .orderBy('f.display_order')
            .execute()
        : [];
      const to = request.query.to ?? betasDate ?? request.query.date ?? '9999-12-31';
      const from = request.query.from ?? addDays(to, -90);
      if (from > to) throw new ApiError(400, 'bad_request', 'querystring parameter "from" is after "to"');
      const history = await db
        .selectFrom('symbol_factor_exposures as e')
        .innerJoin('factor_definitions as f', 'f.id', 'e.factor_id')
        .select(['e.calculation_date as date', 'f.name as factor', 'e.beta', 'e.r_squared'])
        .where('e.symbol', '=', symbol)
        .where('e.calculation_date', '>=', from)
        .where('e.calculation_date', '<=', to)
        .orderBy('e.calculation_date')
        .orderBy('f.display_order')
        .execute();
      return { symbol, metrics_date: metricsDate, metrics, company, betas_date: betasDate, betas, history };
    },
  );

  app.get(
    '/factors',
    {
      schema: {
        summary: 'The factor definitions: proxies, method, window, display order',
        response: {
          200: Type.Object({
            factors: Type.Array(
              Type.Object({
                id: Type.Integer(),
                name: Type.String(),
                category: Type.String(),
                method: Type.String(),
                long_proxy: Type.String(),
                short_proxy: Nullable(Type.String()),
                window_days: Type.Integer(),
                min_observations: Type.Integer(),
                display_order: Type.Integer(),
                metric_column: Type.String(),
                description: Type.String(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async () => ({
      factors: await db
        .selectFrom('factor_definitions')
        .select([
          'id',
          'name',
          'category',
          'method',
          'long_proxy',
          'short_proxy',
          'window_days',
          'min_observations',
          'display_order',
          'metric_column',
          'description',
        ])
        .where('is_active', '=', true)
        .orderBy('display_order')
        .execute(),
    }),
  );
};
