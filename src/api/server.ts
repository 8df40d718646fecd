import cookie from '@fastify/cookie';
import jwt from '@fastify/jwt';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { PipelineEngine } from '../pipeline/engine.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { authRoutes } from './routes/auth.ts';
import { batchRoutes } from './routes/batch.ts';
import { healthRoutes } from './routes/health.ts';
import { portfolioRoutes } from './routes/portfolios.ts';
import { riskRoutes } from './routes/risk.ts';
import { symbolRoutes } from './routes/symbols.ts';
import { tokenFromCookie } from './session.ts';
import { isAppRoute, sendAppShell, webApp } from './web.ts';

export interface ApiDeps {
  db: Kysely<Database>;
  pool: pg.Pool;
  config: Config;
  secret: string;
  /** Enqueues pipeline runs (POST /api/v1/batch/runs); absent, that route answers 503. */
  engine?: Pick<PipelineEngine, 'createRun'>;
}

export interface TokenUser {
  sub: number;
  username: string;
  admin: boolean;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenUser;
    user: TokenUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ApiDeps;
  }
}

/** An error the API answers with its own status and code: `{error, message, details}`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  503: 'unavailable',
};

/**
 * The HTTP API: route groups as plugins with their schemas beside them, OpenAPI generated from those
 * schemas at /docs, JWT authentication on everything but login, health and docs.
 */
export async function buildServer(
  deps: ApiDeps,
  options: { logger?: boolean } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ? { level: 'info' } : false,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      return reply
        .status(error.statusCode)
        .send({ error: error.code, message: error.message, details: error.details ?? null });
    }
    if ((error as FastifyError).validation) {
      const v = (error as FastifyError).validation!;
      const where = (error as FastifyError).validationContext ?? 'request';
      const first = v[0];
      const allowed = (first?.params as { allowedValues?: string[] } | undefined)?.allowedValues;
      const param = first?.instancePath
        ? first.instancePath.replace(/^\//, '')
        : String((first?.params as { missingProperty?: string })?.missingProperty ?? '');
      return reply.status(400).send({
        error: 'bad_request',
        message: `${where}${param ? ` parameter "${param}"` : ''}: ${first?.message ?? 'invalid'}${allowed ? ` (${allowed.join(', ')})` : ''}`,
        details: v.map((x) => ({ path: x.instancePath, message: x.message, params: x.params })),
      });
    }
    const status = (error as FastifyError).statusCode ?? 500;
    if (status >= 500) request.log.error(error);
    return reply.status(status).send({
      error: STATUS_CODES[status] ?? 'internal_error',
      message: status >= 500 ? 'internal error' : error.message,
      details: null,
    });
  });
  let webBuilt = false;
  app.setNotFoundHandler((request, reply) =>
    webBuilt && isAppRoute(request)
      ? sendAppShell(reply)
      : reply.status(404).send({
          error: 'not_found',
          message: `no route ${request.method} ${request.url.split('?')[0]}`,
          details: null,
        }),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Factor Universe API',
        version: '1.0.0',
        description: 'Factor exposures of symbols and portfolios.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearerAuth: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Verified tokens are remembered (never past their own expiry), so a client's repeated requests
  // skip the signature check.
  await app.register(jwt, {
    secret: deps.secret,
    sign: { expiresIn: deps.config.tokenTtlSeconds },
    verify: { cache: true },
  });

  // The web app's session cookie carries the same token as the Authorization header.
  await app.register(cookie);
  app.addHook('onRequest', tokenFromCookie);
  webBuilt = await webApp(app);

  await app.register(healthRoutes);
  await app.register(authRoutes, { prefix: '/api/v1/auth' });
  await app.register(async (secured) => {
    secured.addHook('onRequest', async (request) => {
      try {
        await request.jwtVerify();
      } catch {
        throw new ApiError(401, 'unauthorized', 'a valid bearer token is required (POST /api/v1/auth/login)');
      }
    });
    await secured.register(symbolRoutes, { prefix: '/api/v1/data' });
    await secured.register(portfolioRoutes, { prefix: '/api/v1/portfolios' });
    await secured.register(analyticsRoutes, { prefix: '/api/v1/analytics' });
    await secured.register(riskRoutes, { prefix: '/api/v1' });
    await secured.register(batchRoutes, { prefix: '/api/v1/batch' });
  });
  return app;
}
