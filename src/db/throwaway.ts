import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedServer, type EmbeddedServer } from './embedded.ts';

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A scratch folder the embedded server can use (it runs as the postgres user when we are root). */
export function scratchClusterDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** An embedded server in a temp folder on a free port, for tests and benchmarks; `done` removes it. */
export async function startThrowawayServer(
  prefix = 'fu-tmp-',
): Promise<{ server: EmbeddedServer; done: () => Promise<void> }> {
  const dataDir = scratchClusterDir(prefix);
  const server = await startEmbeddedServer(dataDir, await freePort());
  return {
    server,
    done: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
