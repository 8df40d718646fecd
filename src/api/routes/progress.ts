import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { activeRunProgress } from '../../pipeline/runs.ts';
import { errors, Nullable } from '../schemas.ts';

/**
 * What the pipeline is computing now, for every signed-in user (the web app's progress banner while
 * `npm start` computes its first days in the background): the active run's range and days done.
 * Only counts and dates; the runs themselves stay admin-only (batch routes).
 */
export const progressRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  app.get(
    '/progress',
    {
      schema: {
        summary: "The active pipeline run's range and trading days done (null when none runs)",
        response: {
          200: Type.Object({
            run: Nullable(
              Type.Object({
                from: Type.String(),
                to: Type.String(),
                status: Type.String(),
                days_total: Type.Integer(),
                days_done: Type.Integer(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async () => {
      const r = await activeRunProgress(pool);
      return {
        run: r && {
          from: r.from,
          to: r.to,
          status: r.status,
          days_total: r.daysTotal,
          days_done: r.daysDone,
        },
      };
    },
  );
};
