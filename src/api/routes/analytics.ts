import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { canonicalSymbol } from '../../imports/symbols.ts';
import {
  defaultMultiplier,
  impliedOptionSymbol,
  isOption,
  positionProblems,
  POSITION_TYPES,
  type Position,
} from '../../portfolios/position.ts';
import { whatIf } from '../../portfolios/run.ts';
import { riskSettings } from '../../risk/report.ts';
import { unknownSymbols } from '../../universe.ts';
import { ApiError } from '../errors.ts';
import { errors, Id, IsoDate, Nullable, StringEnum } from '../schemas.ts';
import { ownsPortfolio } from '../../portfolios/limits-repo.ts';
import { whatIfLimits } from '../../portfolios/what-if-limits.ts';
import { HedgeSchema, RiskSchema, StressSchema, VarSchema } from './risk.ts';

/**
 * Bounds far beyond any real book, so that sums of a few thousand positions stay finite (1e308 is
 * refused by the schema, naming the field, instead of overflowing to Infinity on the way).
 */
const MAX_QUANTITY = 1e12;
const MAX_PRICE = 1e9;
const MAX_EQUITY = 1e15;
/**
 * Weights are values over equity: an equity of 1e-300 makes them overflow to Infinity, which no
 * answer can carry. A cent is the least equity a book can have (weights stay below 1e23).
 */
const MIN_EQUITY = 0.01;

const PositionInput = Type.Object(
  {
    symbol: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9^][A-Za-z0-9.\\-^=_/ ]{0,31}$' })),
    position_type: StringEnum(POSITION_TYPES),
    quantity: Type.Number({ minimum: -MAX_QUANTITY, maximum: MAX_QUANTITY }),
    underlying_symbol: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9^][A-Za-z0-9.\\-^=_/]{0,31}$' })),
    strike_price: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_PRICE })),
    expiration_date: Type.Optional(IsoDate),
    multiplier: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 })),
    implied_volatility: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);

/** POST /api/v1/analytics/what-if: exposures of hypothetical positions; nothing is stored. */
export const analyticsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/what-if',
    {
      schema: {
        summary:
          'Factor exposures, Greeks, risk, VaR, stress tests and hedges of a hypothetical list of positions (stored nowhere)',
        body: Type.Object(
          {
            positions: Type.Array(PositionInput, { minItems: 1, maxItems: 5000 }),
            equity: Type.Number({ minimum: MIN_EQUITY, maximum: MAX_EQUITY }),
            date: Type.Optional(IsoDate),
            /** One of your portfolios: the answer lists which of its limits the book would breach. */
            portfolio_id: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            date: Type.String(),
            betas_date: Nullable(Type.String()),
            equity: Type.Number(),
            exposures: Type.Array(
              Type.Object({
                factor: Type.String(),
                exposure: Type.Number(),
                dollar_exposure: Type.Number(),
                positions_missing: Type.Array(Type.String()),
              }),
            ),
            positions: Type.Array(
              Type.Object({
                symbol: Type.String(),
                price: Nullable(Type.Number()),
                delta: Nullable(Type.Number()),
                exposure: Nullable(Type.Number()),
                weight: Nullable(Type.Number()),
                expired: Type.Boolean(),
              }),
            ),
            stress: Type.Array(StressSchema),
            /** Null when no risk model can be formed for the date. */
            risk: Nullable(RiskSchema),
            var: Nullable(VarSchema),
            hedges: Nullable(HedgeSchema),
            limits: Type.Optional(
              Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  name: Type.String(),
                  metric: Type.String(),
                  factor: Nullable(Type.String()),
                  lower: Nullable(Type.Number()),
                  upper: Nullable(Type.Number()),
                  value: Nullable(Type.Number()),
                  breached: Type.Boolean(),
                }),
              ),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const problems: { index: number; field: string; message: string }[] = [];
      const positions = request.body.positions.map((input, index) => {
        const underlying = input.underlying_symbol
          ? canonicalSymbol(input.underlying_symbol.toUpperCase())
          : null;
        const p: Position & { id: number } = {
          id: index + 1,
          symbol: input.symbol ? canonicalSymbol(input.symbol.toUpperCase()) : '',
          positionType: input.position_type,
          quantity: input.quantity,
          entryPrice: null,
          entryDate: null,
          exitDate: null,
          underlyingSymbol: underlying,
          strikePrice: input.strike_price ?? null,
          expirationDate: input.expiration_date ?? null,
          multiplier: input.multiplier ?? defaultMultiplier(input.position_type),
          impliedVolatility: input.implied_volatility ?? null,
        };
        for (const x of positionProblems(p)) problems.push({ index, field: x.column, message: x.message });
        p.symbol ||= impliedOptionSymbol(p) ?? '';
        if (!p.symbol) problems.push({ index, field: 'symbol', message: 'symbol is missing' });
        return p;
      });
      // The symbol a position's betas come from must be known: an option's underlying, else the symbol.
      const betaSymbol = (p: Position) => (isOption(p.positionType) ? p.underlyingSymbol : p.symbol);
      const unknown = await unknownSymbols(
        app.deps.pool,
        positions.map(betaSymbol).filter((s): s is string => !!s),
      );
      positions.forEach((p, index) => {
        const s = betaSymbol(p);
        if (s && unknown.has(s))
          problems.push({
            index,
            field: isOption(p.positionType) ? 'underlying_symbol' : 'symbol',
            message: `unknown symbol ${s}`,
          });
      });
      const today = new Date().toISOString().slice(0, 10);
      if (request.body.date !== undefined && request.body.date > today)
        throw new ApiError(
          400,
          'bad_request',
          `body parameter "date": ${request.body.date} is in the future`,
        );
      if (problems.length > 0) {
        problems.sort((a, b) => a.index - b.index);
        const first = problems[0]!;
        throw new ApiError(
          400,
          'bad_request',
          `body parameter "positions/${first.index}/${first.field}": ${first.message}`,
          problems,
        );
      }
      const date = request.body.date ?? '9999-12-31';
      const { config } = app.deps;
      const limitsOf = request.body.portfolio_id;
      if (limitsOf !== undefined && !(await ownsPortfolio(app.deps.pool, limitsOf, request.user.sub)))
        throw new ApiError(404, 'not_found', `no portfolio ${limitsOf} (body parameter "portfolio_id")`);
      const r = await whatIf(
        app.deps.db,
        app.deps.pool,
        positions,
        date,
        request.body.equity,
        'symbol',
        riskSettings(config),
        app.deps.panels,
      ).catch((e: Error) => {
        // The one refusal of the request's own making; anything else (a database error) is not a 400.
        if (e.message.startsWith('no trading day'))
          throw new ApiError(400, 'bad_request', `body parameter "date": ${e.message}`);
        throw e;
      });
      const equity = r.day.snapshot.equity;
      return {
        date: r.date,
        betas_date: r.betasDate,
        equity,
        exposures: r.model.factors.map((f, i) => ({
          factor: f.name,
          exposure: r.day.exposure.exposure[i]!,
          dollar_exposure: r.day.exposure.dollar[i]!,
          positions_missing: r.day.exposure.missing[i]!.map((m) => m.symbol),
        })),
        positions: r.day.values.map((v) => ({
          symbol: v.symbol,
          price: v.price,
          delta: v.option?.delta ?? (v.isOption ? null : 1),
          exposure: v.exposure,
          weight: v.exposure === null ? null : v.exposure / equity,
          expired: v.expired,
        })),
        stress: r.risk?.stress ?? [],
        risk: r.risk?.risk ?? null,
        var: r.risk?.var ?? null,
        hedges: r.risk?.hedges ?? null,
        ...(limitsOf !== undefined && {
          limits: await whatIfLimits(
            app.deps.pool,
            r.model,
            r.date,
            limitsOf,
            config.benchmark,
            r.day,
            r.risk,
          ),
        }),
      };
    },
  );
};
