import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';

/**
 * The Content-Security-Policy of everything we serve: the built single-page app under `/` and the
 * OpenAPI browser under `/docs` load scripts only from this origin (no inline script, no eval), draw
 * charts on canvas (images from data:/blob: URLs), and talk only to this origin. Inline style
 * attributes stay allowed: chart and UI libraries set them, and they cannot run code.
 */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
};

/** Security headers on every answer (helmet), and CORS only for the origins configured. */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(helmet, {
    // No upgrade-insecure-requests: the loopback demo is plain HTTP.
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
  });
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
  }
}
