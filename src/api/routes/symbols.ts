import type {} from '../deps.ts';
import { canonicalSymbol } from '../../imports/symbols.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Static } from 'typebox';
import { TtlCache } from '../cache.ts';
import { addDays } from '../../dates.ts';
import {
  DASHBOARD_COLUMNS,
  DASHBOARD_NUMBER_COLUMNS,
  DASHBOARD_SORTABLE,
  DASHBOARD_TEXT_COLUMNS,
  dashboardJson,
  readDashboard,
  type DashboardColumn,
  type DashboardQuery,
} from '../../metrics/dashboard.ts';
import { priceHistory } from '../../market/history.ts';
import { ApiError } from '../errors.ts';
import { betaHistory, betasOn, latestBetasDate } from '../read/symbol-betas.ts';
import { errors, IsoDate, Nullable, Offset, PLAIN_TEXT, StringEnum } from '../schemas.ts';

/** Larger than any company's market value or meaningful P/E: `1e308` is a 400 naming the field. */
const MAX_MONEY = 1e15;

/** The only columns a client may sort by (any column of the dashboard): the schema rejects anything else with 400. */
export const SORTABLE = DASHBOARD_SORTABLE;
const NUMBER_COLUMNS = DASHBOARD_NUMBER_COLUMNS;
const TEXT_COLUMNS = DASHBOARD_TEXT_COLUMNS;

const SymbolRow = Type.Object({
  symbol: Type.String(),
  ...Object.fromEntries(TEXT_COLUMNS.map((c) => [c, Nullable(Type.String())])),
  ...Object.fromEntries(NUMBER_COLUMNS.map((c) => [c, Nullable(Type.Number())])),
});
const SymbolParam = Type.String({ pattern: '^[A-Za-z0-9^][A-Za-z0-9.\\-^=_/]{0,31}$' });

/** The route's query as the read module takes it; `min_market_cap` above `max_market_cap` is a 400. */
function dashboardQuery(params: Static<typeof ListQuery>): DashboardQuery {
  const { min_market_cap, max_market_cap } = params;
  if (min_market_cap !== undefined && max_market_cap !== undefined && min_market_cap > max_market_cap) {
    throw new ApiError(
      400,
      'bad_request',
      'querystring parameter "min_market_cap" is above "max_market_cap"',
    );
  }
  const asked = params.fields?.split(',') as DashboardColumn[] | undefined;
  const columns = asked
    ? DASHBOARD_COLUMNS.filter((c) => c === 'symbol' || asked.includes(c))
    : DASHBOARD_COLUMNS;
  return {
    sortBy: params.sort_by ?? 'market_cap',
    sortOrder: params.sort_order ?? 'desc',
    ...(params.sector !== undefined && { sector: params.sector }),
    ...(min_market_cap !== undefined && { minMarketCap: min_market_cap }),
    ...(max_market_cap !== undefined && { maxMarketCap: max_market_cap }),
    ...(params.max_pe_ratio !== undefined && { maxPeRatio: params.max_pe_ratio }),
    ...(params.q !== undefined && { q: params.q }),
    ...(params.date !== undefined && { date: params.date }),
    limit: params.limit ?? 100,
    offset: params.offset ?? 0,
    columns,
  };
}

/** Sector names: letters, spaces and the punctuation GICS uses; anything else (quotes, semicolons) is refused. */
const Sector = Type.String({
  pattern: "^[A-Za-z][A-Za-z &,.'/-]{0,63}$",
  description: 'a sector name, e.g. Information Technology',
});

/** `fields=symbol,sector,factor_value`: the columns to return (symbol always comes back). */
const Fields = Type.String({
  pattern: `^(${DASHBOARD_COLUMNS.join('|')})(,(${DASHBOARD_COLUMNS.join('|')}))*$`,
  maxLength: 1000,
  description: `comma-separated columns to return, of: ${DASHBOARD_COLUMNS.join(', ')} (default: all)`,
});

const ListQuery = Type.Object(
  {
    fields: Type.Optional(Fields),
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
        description: 'text found anywhere in the symbol or company name (case-insensitive)',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    offset: Type.Optional(Offset),
    date: Type.Optional(IsoDate),
  },
  { additionalProperties: false },
);

/** A dashboard row: every column unless `fields=` names fewer. */
const PartialSymbolRow = Type.Partial(SymbolRow);
const ListAnswer = Type.Object({
  symbols: Type.Array(PartialSymbolRow),
  total_count: Type.Integer(),
  /** the computed date shown: the newest on or before `date` (null: none is) */
  metrics_date: Nullable(Type.String()),
  /** when `date` is before every computed date: the first computed date after it */
  nearest_metrics_date: Nullable(Type.String()),
});

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
      const query = dashboardQuery(request.query);
      // The latest dates from memory (current: the database notifies every change); anything else,
      // or while the notifications are down, from SQL through the few-second answer cache.
      const served = await app.deps.servedDates?.json(query);
      const body =
        served ??
        (await dashboard.get(JSON.stringify(request.query), async () =>
          dashboardJson(await readDashboard(app.deps.pool, query)),
        ));
      // written by dashboardJson in the 200 schema's shape: sent as is, through the untyped reply
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(body);
    },
  );

  app.get(
    '/symbols/:symbol/prices',
    {
      schema: {
        summary: "One symbol's daily closes between two dates (default: the last five years)",
        params: Type.Object({ symbol: SymbolParam }),
        querystring: Type.Object(
          { from: Type.Optional(IsoDate), to: Type.Optional(IsoDate) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            symbol: Type.String(),
            dates: Type.Array(Type.String()),
            closes: Type.Array(Type.Number()),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const symbol = canonicalSymbol(request.params.symbol.toUpperCase());
      const to = request.query.to ?? '9999-12-31';
      const from = request.query.from ?? (request.query.to ? addDays(to, -5 * 366) : '0001-01-01');
      if (from > to) throw new ApiError(400, 'bad_request', 'querystring parameter "from" is after "to"');
      const history = await priceHistory(app.deps.pool, symbol, from, to);
      if (history.dates.length === 0 && !(await symbolKnown(symbol)))
        throw new ApiError(404, 'not_found', `unknown symbol ${symbol}`);
      return { symbol, ...history };
    },
  );

  const symbolKnown = async (symbol: string) =>
    (await db
      .selectFrom('symbol_universe')
      .select('symbol')
      .where('symbol', '=', symbol)
      .executeTakeFirst()) !== undefined;

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
        params: Type.Object({ symbol: SymbolParam }),
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
      const symbol = canonicalSymbol(request.params.symbol.toUpperCase());
      if (!(await symbolKnown(symbol))) throw new ApiError(404, 'not_found', `unknown symbol ${symbol}`);
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
      const betasDate = await latestBetasDate(db, symbol, request.query.date);
      const betas = betasDate ? await betasOn(db, symbol, betasDate) : [];
      const to = request.query.to ?? betasDate ?? request.query.date ?? '9999-12-31';
      const from = request.query.from ?? addDays(to, -90);
      if (from > to) throw new ApiError(400, 'bad_request', 'querystring parameter "from" is after "to"');
      const history = await betaHistory(db, symbol, from, to);
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
