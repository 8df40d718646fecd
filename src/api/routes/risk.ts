import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  attributionBetween,
  ownsPortfolio,
  portfolioRiskOn,
  ridgeFactorNames,
  riskModelOn,
  stressResultsOn,
} from '../read/risk.ts';
import { riskDollars } from '../../risk/portfolio.ts';
import type { HedgeReport, RiskReport, VarReport } from '../../risk/report.ts';
import { ApiError } from '../errors.ts';
import { errors, Id, IsoDate, Nullable } from '../schemas.ts';

/** Schemas of the risk answers (METHODOLOGY.md 10–13), shared with the what-if route. */
const Num = Type.Number();
export const RiskSchema = Type.Object({
  date: Type.String(),
  risk_model_date: Type.String(),
  equity: Num,
  total_risk: Num,
  factor_risk: Num,
  specific_risk: Num,
  tracking_error: Nullable(Num),
  total_risk_dollars: Num,
  factor_risk_dollars: Num,
  specific_risk_dollars: Num,
  tracking_error_dollars: Nullable(Num),
  benchmark: Type.String(),
  factors: Type.Array(Type.Object({ factor: Type.String(), exposure: Num, contribution: Num, percent: Num })),
  symbols: Type.Array(
    Type.Object({ symbol: Type.String(), weight: Num, specific_vol: Num, contribution: Num, percent: Num }),
  ),
  positions: Type.Array(
    Type.Object({
      position_id: Type.Integer(),
      symbol: Type.String(),
      weight: Num,
      contribution: Num,
      percent: Num,
    }),
  ),
  missing: Type.Array(
    Type.Object({ position_id: Type.Integer(), symbol: Type.String(), reason: Type.String() }),
  ),
});
const Figures = { var_95: Num, es_95: Num, var_99: Num, es_99: Num };
export const VarSchema = Type.Object({
  parametric: Type.Object(Figures),
  historical: Type.Object({ ...Figures, days: Type.Integer() }),
});
export const HedgeSchema = Type.Object({
  factor_risk_before: Num,
  factor_risk_after: Num,
  factor_risk_before_dollars: Num,
  factor_risk_after_dollars: Num,
  etfs: Type.Array(Type.Object({ symbol: Type.String(), notional: Num })),
  market_hedge: Nullable(Type.Object({ symbol: Type.String(), notional: Num, beta: Num })),
});
export const StressSchema = Type.Object({
  scenario: Type.String(),
  kind: Type.String(),
  pnl: Nullable(Num),
  pnl_percent: Nullable(Num),
  status: Type.String(),
  reason: Type.Optional(Type.String()),
  shocks: Type.Record(Type.String(), Num),
});

const IdParams = Type.Object({ id: Id });
const DateQuery = Type.Object({ date: Type.Optional(IsoDate) }, { additionalProperties: false });

/**
 * The risk model and each portfolio's stored risk report, VaR, stress tests, attribution and hedges.
 * A date without stored results answers 404 naming the date; another user's portfolio answers 404.
 */
export const riskRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.deps;
  const owned = async (id: number, owner: number) => {
    if (!(await ownsPortfolio(db, id, owner))) throw new ApiError(404, 'not_found', `no portfolio ${id}`);
  };
  const storedRisk = async (id: number, owner: number, date: string | undefined) => {
    await owned(id, owner);
    const r = await portfolioRiskOn(db, id, date);
    if (!r)
      throw new ApiError(
        404,
        'not_found',
        `no risk report of portfolio ${id}${date ? ` on ${date}` : ''} yet`,
      );
    return r;
  };

  app.get(
    '/risk-model',
    {
      schema: {
        summary: 'The factor covariance (annualised) of the newest risk model on or before a date',
        querystring: DateQuery,
        response: {
          200: Type.Object({
            date: Type.String(),
            half_life: Num,
            window_days: Type.Integer(),
            observations: Type.Integer(),
            factors: Type.Array(Type.String()),
            covariance: Type.Array(Type.Array(Num)),
            proxies: Type.Array(Type.String()),
            proxy_covariance: Type.Array(Type.Array(Num)),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const m = await riskModelOn(db, request.query.date, config.riskHalfLife);
      if (!m)
        throw new ApiError(404, 'not_found', `no risk model on or before ${request.query.date ?? 'today'}`);
      const square = (flat: number[], k: number) =>
        Array.from({ length: k }, (_, i) => flat.slice(i * k, (i + 1) * k));
      return {
        date: m.date,
        half_life: m.half_life,
        window_days: m.window_days,
        observations: m.observations,
        factors: m.factors,
        covariance: square(m.covariance, m.factors.length),
        proxies: m.proxies,
        proxy_covariance: square(m.proxy_covariance, m.proxies.length),
      };
    },
  );

  app.get(
    '/portfolios/:id/risk',
    {
      schema: {
        summary: 'Total, factor and specific risk, tracking error and Euler contributions (annualised)',
        params: IdParams,
        querystring: DateQuery,
        response: { 200: RiskSchema, ...errors },
      },
    },
    async (request) => {
      const r = await storedRisk(request.params.id, request.user.sub, request.query.date);
      const report = r.report as unknown as Pick<
        RiskReport,
        'benchmark' | 'factors' | 'symbols' | 'positions' | 'missing'
      >;
      return {
        date: r.date,
        risk_model_date: r.risk_model_date,
        equity: r.equity,
        total_risk: r.total_risk,
        factor_risk: r.factor_risk,
        specific_risk: r.specific_risk,
        tracking_error: r.tracking_error,
        ...riskDollars(r),
        ...report,
        benchmark: report.benchmark ?? config.benchmark,
      };
    },
  );

  app.get(
    '/portfolios/:id/var',
    {
      schema: {
        summary:
          'One-day VaR and expected shortfall, parametric and historical, in dollars (losses positive)',
        params: IdParams,
        querystring: DateQuery,
        response: { 200: Type.Intersect([Type.Object({ date: Type.String() }), VarSchema]), ...errors },
      },
    },
    async (request) => {
      const r = await storedRisk(request.params.id, request.user.sub, request.query.date);
      return { date: r.date, ...(r.var as unknown as VarReport) };
    },
  );

  app.get(
    '/portfolios/:id/hedges',
    {
      schema: {
        summary: 'Proxy-ETF notionals minimising factor risk, and the market hedge',
        params: IdParams,
        querystring: DateQuery,
        response: { 200: Type.Intersect([Type.Object({ date: Type.String() }), HedgeSchema]), ...errors },
      },
    },
    async (request) => {
      const r = await storedRisk(request.params.id, request.user.sub, request.query.date);
      return { date: r.date, ...(r.hedges as unknown as HedgeReport) };
    },
  );

  app.get(
    '/portfolios/:id/stress-tests',
    {
      schema: {
        summary:
          'Stress scenarios of a date (default: the newest), applied or not applicable with the reason',
        params: IdParams,
        querystring: DateQuery,
        response: { 200: Type.Array(StressSchema), ...errors },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      const { rows } = await stressResultsOn(db, request.params.id, request.query.date);
      return rows.map((r) => ({
        scenario: r.scenario,
        kind: r.kind,
        pnl: r.pnl,
        pnl_percent: r.pnl_pct,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        shocks: r.shocks,
      }));
    },
  );

  app.get(
    '/portfolios/:id/attribution',
    {
      schema: {
        summary: 'Factor P&L attribution summed over the days of [from, to]',
        params: IdParams,
        querystring: Type.Object(
          { from: Type.Optional(IsoDate), to: Type.Optional(IsoDate) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            from: Type.String(),
            to: Type.String(),
            days: Type.Integer(),
            total_pnl: Num,
            factors: Type.Array(Type.Object({ factor: Type.String(), pnl: Num })),
            specific_pnl: Num,
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { from = '0001-01-01', to = '9999-12-31' } = request.query;
      if (from > to) throw new ApiError(400, 'bad_request', 'querystring parameter "from" is after "to"');
      await owned(request.params.id, request.user.sub);
      const rows = await attributionBetween(db, request.params.id, from, to);
      // the factors in the model's order (JSON objects come back with their keys reordered)
      const factors = new Map<string, number>((await ridgeFactorNames(db)).map((f) => [f, 0]));
      let total = 0;
      let specific = 0;
      for (const r of rows) {
        total += r.daily_pnl;
        specific += r.specific_pnl;
        for (const [f, pnl] of Object.entries(r.factor_pnl)) factors.set(f, (factors.get(f) ?? 0) + pnl);
      }
      return {
        from: rows[0]?.date ?? from,
        to: rows.at(-1)?.date ?? to,
        days: rows.length,
        total_pnl: total,
        factors: [...factors].flatMap(([factor, pnl]) =>
          rows.some((r) => factor in r.factor_pnl) ? [{ factor, pnl }] : [],
        ),
        specific_pnl: specific,
      };
    },
  );
};
