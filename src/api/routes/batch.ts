import { randomUUID } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { loadModel } from '../../factors/model.ts';
import { tradingDayOnOrBefore } from '../../market/closes.ts';
import { runDate } from '../../batch/runner.ts';
import { ApiError } from '../server.ts';
import { ErrorBody, errors, IsoDate, Nullable } from '../schemas.ts';

/** Recent batch runs, and (admins only) starting one for a date in the background. */
export const batchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, pool, config } = app.deps;
  app.get(
    '/runs',
    {
      schema: {
        summary: 'Recent batch runs and the status of their phases',
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            runs: Type.Array(
              Type.Object({
                run_id: Type.String(),
                run_date: Type.String(),
                phase: Type.String(),
                status: Type.String(),
                items_total: Type.Integer(),
                items_failed: Type.Integer(),
                duration_ms: Nullable(Type.Number()),
                error: Nullable(Type.String()),
                started_at: Type.String(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => ({
      runs: (
        await db
          .selectFrom('batch_runs')
          .select([
            'run_id',
            'run_date',
            'phase',
            'status',
            'items_total',
            'items_failed',
            'duration_ms',
            'error',
            'started_at',
          ])
          .orderBy('id', 'desc')
          .limit(request.query.limit ?? 50)
          .execute()
      ).map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString() })),
    }),
  );

  app.post(
    '/runs',
    {
      schema: {
        summary: 'Start the daily batch for a date in the background (admins only)',
        body: Type.Object(
          { date: Type.Optional(IsoDate), force: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ run_id: Type.String(), date: Type.String() }),
          403: ErrorBody,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      if (!request.user.admin)
        throw new ApiError(403, 'forbidden', 'starting a batch run needs an admin user');
      const model = await loadModel(db);
      const date = await tradingDayOnOrBefore(
        pool,
        model.settings.calendarSymbol,
        request.body.date ?? '9999-12-31',
      );
      if (!date)
        throw new ApiError(
          400,
          'bad_request',
          'no trading day on or before the requested date: import prices first',
        );
      const runId = randomUUID();
      runDate(db, pool, config, date, { force: request.body.force ?? false, runId }).catch((e: Error) =>
        request.log.error({ err: e, runId }, 'batch run failed'),
      );
      return reply.status(202).send({ run_id: runId, date });
    },
  );
};
