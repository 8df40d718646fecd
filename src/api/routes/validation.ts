import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { loadModel } from '../../factors/model.ts';
import {
  backtestDays,
  DEFAULT_WINDOW,
  MAX_WINDOW,
  MIN_WINDOW,
  ROLLING_WINDOW,
  rollingFactorBias,
  validatePortfolioWindow,
  validateRiskModel,
} from '../../risk/validation/report.ts';
import { ApiError } from '../errors.ts';
import { ownsPortfolio } from '../read/risk.ts';
import { errors, Id, IsoDate, Nullable, StringEnum } from '../schemas.ts';

/**
 * Risk forecast validation (METHODOLOGY.md 14): did the stored forecasts hold? Bias statistics of
 * the factors, the specific risks and a portfolio, and the portfolio's VaR backtests, over the
 * `window` trading days ending at `date` (default: the newest date with a forecast). Computed on
 * ask; a window with no usable day answers n = 0 and nulls, not an error.
 */

const Num = Type.Number();
const NullNum = Nullable(Num);
const Window = Type.Integer({
  minimum: MIN_WINDOW,
  maximum: MAX_WINDOW,
  default: DEFAULT_WINDOW,
  description: 'trading days ending at `date`',
});
const Query = Type.Object(
  { date: Type.Optional(IsoDate), window: Type.Optional(Window) },
  { additionalProperties: false },
);
const Band = {
  n: Type.Integer(),
  bias: NullNum,
  band_low: NullNum,
  band_high: NullNum,
  within_band: Nullable(Type.Boolean()),
};

export const RiskModelValidationSchema = Type.Object({
  as_of: Nullable(Type.String()),
  window: Type.Integer(),
  factors: Type.Array(Type.Object({ factor: Type.String(), ...Band })),
  specific: Type.Object({
    median_bias: NullNum,
    share_within_band: NullNum,
    symbols: Type.Integer(),
  }),
});

const Method = StringEnum(['parametric', 'historical'] as const);
const Confidence = Type.Unsafe<0.95 | 0.99>({ type: 'number', enum: [0.95, 0.99] });
export const PortfolioValidationSchema = Type.Object({
  as_of: Nullable(Type.String()),
  window: Type.Integer(),
  bias: Type.Object(Band),
  var_backtests: Type.Array(
    Type.Object({
      method: Method,
      confidence: Confidence,
      n: Type.Integer(),
      exceptions: Type.Integer(),
      expected: Num,
      lr_uc: NullNum,
      p_uc: NullNum,
      lr_ind: NullNum,
      p_ind: NullNum,
      lr_cc: NullNum,
      p_cc: NullNum,
      zone: Nullable(StringEnum(['green', 'yellow', 'red'] as const)),
    }),
  ),
  exceptions: Type.Array(
    Type.Object({
      date: Type.String(),
      method: Method,
      confidence: Confidence,
      loss: Num,
      var: Num,
    }),
  ),
});

export const validationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, pool, config } = app.deps;
  const owned = async (id: number, owner: number) => {
    if (!(await ownsPortfolio(db, id, owner))) throw new ApiError(404, 'not_found', `no portfolio ${id}`);
  };

  app.get(
    '/risk-model/validation',
    {
      schema: {
        summary: 'Bias statistics of the factor and specific risk forecasts over a window (METHODOLOGY §14)',
        description:
          'Each day t of the window scores the forecast stored as of the previous trading day against t. ' +
          'Bias B = sample std of z; well calibrated when |B − 1| ≤ sqrt(2/n). B > 1: risk under-forecast.',
        querystring: Query,
        response: { 200: RiskModelValidationSchema, ...errors },
      },
    },
    async (request) => {
      const { date, window = DEFAULT_WINDOW } = request.query;
      const v = await validateRiskModel(pool, await loadModel(db), config.riskHalfLife, date, window);
      return {
        as_of: v.as_of,
        window: v.window,
        factors: v.factors.map((f) => ({
          factor: f.factor,
          n: f.n,
          bias: f.bias,
          band_low: f.band_low,
          band_high: f.band_high,
          within_band: f.within_band,
        })),
        specific: v.specific,
      };
    },
  );

  app.get(
    '/risk-model/validation/rolling',
    {
      schema: {
        summary: "Each factor's bias over a rolling window (default 60 trading days) at each stored day",
        querystring: Type.Object(
          {
            date: Type.Optional(IsoDate),
            days: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_WINDOW, default: DEFAULT_WINDOW })),
            window: Type.Optional(
              Type.Integer({ minimum: MIN_WINDOW, maximum: MAX_WINDOW, default: ROLLING_WINDOW }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            as_of: Nullable(Type.String()),
            window: Type.Integer(),
            dates: Type.Array(Type.String()),
            factors: Type.Array(Type.Object({ factor: Type.String(), bias: Type.Array(NullNum) })),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { date, days = DEFAULT_WINDOW, window = ROLLING_WINDOW } = request.query;
      return rollingFactorBias(pool, await loadModel(db), config.riskHalfLife, date, days, window);
    },
  );

  app.get(
    '/portfolios/:id/validation',
    {
      schema: {
        summary: "A portfolio's risk bias and VaR backtests (Kupiec, Christoffersen, traffic light)",
        description:
          'Exception on t when the loss −daily_pnl_t exceeds VaR_c of the previous trading day. ' +
          'p-values from χ²(1) (uc, ind) and χ²(2) (cc); null where a test is undefined.',
        params: Type.Object({ id: Id }),
        querystring: Query,
        response: { 200: PortfolioValidationSchema, ...errors },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      const { date, window = DEFAULT_WINDOW } = request.query;
      const v = await validatePortfolioWindow(pool, await loadModel(db), request.params.id, date, window);
      const { n, bias, band_low, band_high, within_band } = v.bias;
      return {
        as_of: v.as_of,
        window: v.window,
        bias: { n, bias, band_low, band_high, within_band },
        var_backtests: v.var_backtests,
        exceptions: v.exceptions,
      };
    },
  );

  app.get(
    '/portfolios/:id/validation/days',
    {
      schema: {
        summary: "The backtest window's days: each day's P&L and the VaR forecasts of the day before",
        params: Type.Object({ id: Id }),
        querystring: Query,
        response: {
          200: Type.Object({
            as_of: Nullable(Type.String()),
            window: Type.Integer(),
            days: Type.Array(
              Type.Object({
                date: Type.String(),
                pnl: NullNum,
                var_parametric_95: NullNum,
                var_parametric_99: NullNum,
                var_historical_95: NullNum,
                var_historical_99: NullNum,
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      await owned(request.params.id, request.user.sub);
      const { date, window = DEFAULT_WINDOW } = request.query;
      return backtestDays(pool, await loadModel(db), request.params.id, date, window);
    },
  );
};
