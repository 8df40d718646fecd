import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { migrationsCurrent } from '../../db/migrate.ts';

/** /ready answers within a second: a database that does not answer in this long is not ready. */
export const READY_TIMEOUT_MS = 800;

/** `p`, or false once `ms` passed (the late answer is ignored; its query times out on its own). */
function within(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([p.catch(() => false), late]).finally(() => clearTimeout(timer));
}

/** Liveness and readiness (database reachable, migrations current); no token needed. */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    { schema: { security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({
      status: 'ok' as const,
    }),
  );

  const Ready = Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    database: Type.Boolean(),
    migrations: Type.Boolean(),
  });
  app.get(
    '/ready',
    { schema: { security: [], response: { 200: Ready, 503: Ready } } },
    async (_request, reply) => {
      const started = Date.now();
      const database = await within(
        sql`SELECT 1`.execute(app.deps.db).then(() => true),
        READY_TIMEOUT_MS,
      );
      const migrations =
        database &&
        (await within(
          migrationsCurrent(app.deps.db),
          Math.max(1, READY_TIMEOUT_MS - (Date.now() - started)),
        ));
      const ready = database && migrations;
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', database, migrations });
    },
  );
};
