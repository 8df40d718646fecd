import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { jwtSecret } from './secret.ts';
import { buildServer } from './server.ts';

/** Serves the API until SIGINT/SIGTERM, then closes the server and the database. */
export async function serve(d: Db, config: Config, port = config.port, host = '127.0.0.1'): Promise<void> {
  const app = await buildServer(
    { db: d.db, pool: d.pool, config, secret: jwtSecret(config) },
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
}
