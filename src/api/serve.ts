import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { PipelineEngine } from '../pipeline/engine.ts';
import { jwtSecret } from './secret.ts';
import { buildServer } from './server.ts';

/** Serves the API until SIGINT/SIGTERM, then closes the server and the database. */
export async function serve(
  d: Db,
  config: Config,
  port = config.port,
  host = '127.0.0.1',
  /** Enqueues runs for POST /api/v1/batch/runs; opened here (no worker) when not given. */
  engine?: PipelineEngine,
): Promise<void> {
  const queue = engine ?? (await PipelineEngine.open(d, config, { supervise: false }));
  const app = await buildServer(
    { db: d.db, pool: d.pool, config, secret: jwtSecret(config), engine: queue },
    { logger: true },
  );
  const address = await app.listen({ port, host });
  console.log(`Factor Universe API on ${address} (OpenAPI at ${address}/docs)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  if (!engine) await queue.stop();
}
