import { randomUUID } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { loadModel } from '../../factors/model.ts';
import { tradingDayOnOrBefore } from '../../market/closes.ts';
import { runDate } from '../../batch/runner.ts';
import { ApiError } from '../errors.ts';
import { ErrorBody, errors, IsoDate, Nullable } from '../schemas.ts';

const adminOnly = (admin: boolean, what: string) => {
  if (!admin) throw new ApiError(403, 'forbidden', `${what} needs an admin user`);
};

/**
 * Batch runs, for admins only: the recent runs, and starting one for a date in the background (202
 * with its run id; while a run of that date is active here, another answers 409 with its id).
 */
export const batchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, pool, config } = app.deps;
  /** Runs this process started and that have not finished, by date. */
  const active = new Map<string, string>();
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
          403: ErrorBody,
          ...errors,
        },
      },
    },
    async (request) => {
      adminOnly(request.user.admin, 'the batch runs');
      return {
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
      };
    },
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
          409: ErrorBody,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      adminOnly(request.user.admin, 'starting a batch run');
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
      const running = active.get(date);
      if (running)
        throw new ApiError(409, 'conflict', `a batch run of ${date} is already active (run ${running})`, {
          run_id: running,
        });
      const runId = randomUUID();
      active.set(date, runId);
      runDate(db, pool, config, date, { force: request.body.force ?? false, runId })
        .catch((e: Error) => request.log.error({ err: e, runId }, 'batch run failed'))
        .finally(() => active.delete(date));
      return reply.status(202).send({ run_id: runId, date });
    },
  );
};
