import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build:web` writes the web app (web/dist at the repository root). */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/**
 * Serves the built web app at `/`: hashed assets cached for a year, index.html never cached.
 * Does nothing when the app was not built (the API works without it).
 */
export async function webApp(app: FastifyInstance, root = WEB_DIST): Promise<boolean> {
  if (!existsSync(path.join(root, 'index.html'))) return false;
  await app.register(fastifyStatic, {
    root,
    wildcard: true,
    index: ['index.html'],
    setHeaders: (reply, file) => {
      reply.header(
        'cache-control',
        file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return true;
}

/**
 * A page route of the single-page app (e.g. /symbols/AAPL typed into the address bar): answered with
 * index.html so the client-side router shows it. The API (/api/…), the docs and non-GET requests keep
 * their JSON 404.
 */
export function isAppRoute(request: FastifyRequest): boolean {
  const url = request.url.split('?')[0]!;
  return (
    request.method === 'GET' &&
    !url.startsWith('/api/') &&
    url !== '/api' &&
    !url.startsWith('/docs') &&
    !/\.[a-z0-9]+$/i.test(url) &&
    (request.headers.accept ?? '').includes('text/html')
  );
}

export const sendAppShell = (reply: FastifyReply) =>
  reply.header('cache-control', 'no-cache').sendFile('index.html');
