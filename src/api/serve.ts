import { isIP } from 'node:net';
import { DEFAULT_DEMO_PASSWORD, type Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { PipelineEngine } from '../pipeline/engine.ts';
import { usersWithDemoPassword } from '../users/users.ts';
import { jwtSecret } from './secret.ts';
import { buildServer } from './server.ts';

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** True for an address that means every interface of the machine. */
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';

/** The URL to print for where the server listens: the address bound, not a loopback stand-in. */
export function listenUrl(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/**
 * Serves the API until SIGINT/SIGTERM. Then it stops accepting connections, lets the requests in
 * flight finish (at most `config.shutdownTimeoutMs`, after which their connections are cut) and
 * returns; the caller closes the pool and stops the embedded server.
 *
 * The demo password is for the loopback demo: on any other address the server refuses to start
 * while a user still has it (the password the demo loader set and nobody changed since, or the
 * configured or default demo password, whatever FU_DEMO_PASSWORD says now).
 */
export async function serve(
  d: Db,
  config: Config,
  port = config.port,
  host = config.host,
  /** Enqueues runs for POST /api/v1/batch/runs; opened here (no worker: a stateless API) when not given. */
  engine?: PipelineEngine,
  /** Called once the port answers, with its address (npm start then computes in the background). */
  onListening?: (address: string) => void,
): Promise<void> {
  if (!isLoopback(host)) {
    const exposed = await usersWithDemoPassword(d.db, [config.demoPassword, DEFAULT_DEMO_PASSWORD]);
    if (exposed.length > 0)
      throw new Error(
        `refusing to listen on ${host}: user(s) ${exposed.join(', ')} still have the demo password; ` +
          'set another one (FU_NEW_PASSWORD=... factor-universe users create NAME --replace) or listen on 127.0.0.1',
      );
  }
  const queue = engine ?? (await PipelineEngine.open(d, config, { supervise: false }));
  const app = await buildServer(
    { db: d.db, pool: d.pool, config, secret: jwtSecret(config), engine: queue },
    { logger: true },
  );
  let stopping: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (stopping = resolve));
  const onSignal = () => stopping?.();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await app.listen({ port, host });
    const bound = app.server.address();
    const address = listenUrl(host, typeof bound === 'object' && bound ? bound.port : port);
    console.log(
      `Factor Universe API on ${address}${isWildcard(host) ? ' (every interface of this machine)' : ''} (OpenAPI at ${address}/docs)`,
    );
    onListening?.(address);
    await stopped;
    console.log('Stopping: no new connections; finishing the requests in flight…');
    // A kept-alive connection becomes idle once its request is answered: close it then, rather than
    // waiting for its keep-alive timeout; cut whatever is left after the bound.
    const idle = setInterval(() => app.server.closeIdleConnections(), 100);
    const cut = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs);
    const started = Date.now();
    await app.close();
    clearInterval(idle);
    clearTimeout(cut);
    console.log(`Stopped serving in ${Date.now() - started} ms.`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!engine) await queue.stop();
  }
}
