import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { migrationsCurrent } from '../../db/migrate.ts';

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
      const database = await sql`SELECT 1`.execute(app.deps.db).then(
        () => true,
        () => false,
      );
      const migrations = database && (await migrationsCurrent(app.deps.db).catch(() => false));
      const ready = database && migrations;
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', database, migrations });
    },
  );
};
