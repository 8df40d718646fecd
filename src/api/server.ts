import cookie from '@fastify/cookie';
import jwt from '@fastify/jwt';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { accountById } from '../users/users.ts';
import type { ApiDeps, TokenPayload } from './deps.ts';
import { ApiError, DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from './errors.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { accountRoutes, authRoutes } from './routes/auth.ts';
import { registerSecurityHeaders } from './security.ts';
import { batchRoutes } from './routes/batch.ts';
import { progressRoutes } from './routes/progress.ts';
import { healthRoutes } from './routes/health.ts';
import { portfolioRoutes } from './routes/portfolios.ts';
import { limitRoutes } from './routes/limits.ts';
import { reportRoutes } from './routes/reports.ts';
import { riskRoutes } from './routes/risk.ts';
import { symbolRoutes } from './routes/symbols.ts';
import { tokenFromCookie } from './session.ts';
import { isAppRoute, sendAppShell, webApp } from './web.ts';

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

const unauthorized = (why: string) =>
  new ApiError(401, 'unauthorized', `${why} (sign in with POST /api/v1/auth/login)`);

/**
 * The HTTP API: route groups as plugins with their schemas beside them, OpenAPI generated from those
 * schemas at /docs, JWT authentication on everything but login, health and docs.
 */
export async function buildServer(
  deps: ApiDeps,
  options: { logger?: boolean; logStream?: NodeJS.WritableStream } = {},
): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    // Structured (JSON) lines carrying the request id; no line per request unless FU_LOG_LEVEL=debug.
    logger: options.logger
      ? {
          level: config.logLevel,
          ...(options.logStream && { stream: options.logStream }),
          redact: ['req.headers.authorization', 'req.headers.cookie', 'req.body.password'],
        }
      : false,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false, // a client's id is not trusted: ours is in the x-request-id answer header
    bodyLimit: config.bodyLimitBytes,
    // Long path parameters reach the route's schema (a 400 naming them) instead of a bare 414.
    routerOptions: { maxParamLength: 1000 },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // The schema coerces query text to numbers, and "Infinity" coerces to a number that slips past
  // integer checks: refuse it (and NaN) here, naming the parameter.
  app.addHook('preValidation', async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    for (const [name, value] of Object.entries(query ?? {})) {
      if (typeof value === 'string' && /^[+-]?(infinity|nan)$/i.test(value.trim()))
        throw new ApiError(400, 'bad_request', `querystring parameter "${name}": must be a finite number`);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      return reply
        .status(error.statusCode)
        .send({ error: error.code, message: error.message, details: error.details ?? null });
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      return reply.status(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS)).send({
        error: 'database_unavailable',
        message: 'the database is not answering; try again shortly',
        details: null,
        request_id: request.id,
      });
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
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('22')) {
      // A data exception from PostgreSQL (a value out of range for its column): the request's
      // fault, but the driver's words are not shown.
      request.log.warn({ err: error }, 'data exception');
      return reply.status(400).send({
        error: 'bad_request',
        message: 'a value of the request is out of range or not representable',
        details: null,
        request_id: request.id,
      });
    }
    const fastifyStatus = (error as FastifyError).statusCode;
    const status =
      typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500 ? fastifyStatus : 500;
    if (status >= 500) request.log.error({ err: error }, 'internal error');
    return reply.status(status).send({
      error: STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request'),
      message: status >= 500 ? `internal error (request id ${request.id})` : error.message,
      details: null,
      request_id: request.id,
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

  await registerSecurityHeaders(app, config);
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
  // One algorithm, an expiry required. Verified signatures are remembered (never past their own
  // expiry); the user's token version and rights are read from the store on every request.
  await app.register(jwt, {
    secret: deps.secret,
    sign: { algorithm: 'HS256', expiresIn: config.tokenTtlSeconds },
    verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub', 'tv'], cache: true },
  });

  // The web app's session cookie carries the same token as the Authorization header.
  await app.register(cookie);
  app.addHook('onRequest', tokenFromCookie);
  webBuilt = await webApp(app);

  await app.register(healthRoutes);
  await app.register(authRoutes, { prefix: '/api/v1/auth' });
  await app.register(async (secured) => {
    secured.addHook('onRequest', async (request) => {
      let token: TokenPayload;
      try {
        token = await request.jwtVerify<TokenPayload>();
      } catch {
        throw unauthorized('a valid bearer token is required');
      }
      if (!Number.isSafeInteger(token.sub) || !Number.isSafeInteger(token.tv))
        throw unauthorized('a valid bearer token is required');
      const account = await accountById(deps.db, token.sub);
      if (!account || account.token_version !== token.tv)
        throw unauthorized('this token was revoked (signed out, password changed or user changed)');
      request.user = { sub: account.id, username: account.username, admin: account.is_admin };
    });
    await secured.register(accountRoutes, { prefix: '/api/v1/auth' });
    await secured.register(symbolRoutes, { prefix: '/api/v1/data' });
    await secured.register(portfolioRoutes, { prefix: '/api/v1/portfolios' });
    await secured.register(limitRoutes, { prefix: '/api/v1/portfolios' });
    await secured.register(reportRoutes, { prefix: '/api/v1/portfolios' });
    await secured.register(analyticsRoutes, { prefix: '/api/v1/analytics' });
    await secured.register(riskRoutes, { prefix: '/api/v1' });
    await secured.register(batchRoutes, { prefix: '/api/v1/batch' });
    await secured.register(progressRoutes, { prefix: '/api/v1' });
  });
  return app;
}
