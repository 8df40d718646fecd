import cookie from '@fastify/cookie';
import jwt from '@fastify/jwt';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { ServedDates } from '../metrics/served-dates.ts';
import { AccountCache } from '../users/account-cache.ts';
import { DayPanelCache } from '../risk/panel-cache.ts';
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
import { validationRoutes } from './routes/validation.ts';
import { symbolRoutes } from './routes/symbols.ts';
import { CredentialLimits } from './rate-limit.ts';
import { sessionFromCookie } from './session.ts';
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

/**
 * The HTTP server with its bounds: a slow or idle client must not hold a socket for ever. The
 * headers, the whole request, an idle kept-alive connection and a silent socket each have a limit
 * (node checks the first two every second here, not every 30 s), and beyond `httpMaxConnections`
 * open sockets a new one is closed at once, so file descriptors stay for the clients already
 * served and for the database pool.
 */
function httpServer(config: Config, handler: http.RequestListener): http.Server {
  const server = http.createServer(
    {
      headersTimeout: Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs),
      requestTimeout: config.httpRequestTimeoutMs,
      keepAliveTimeout: config.httpKeepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.httpHeadersTimeoutMs),
    },
    handler,
  );
  server.setTimeout(config.httpIdleTimeoutMs, (socket) => socket.destroy());
  server.maxConnections = config.httpMaxConnections;
  return server;
}

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
    serverFactory: (handler) => httpServer(config, handler),
    // X-Forwarded-* only from the configured number of proxies (the nearest hops); otherwise a client
    // could forge them.
    trustProxy: config.trustProxy > 0 ? (_address: string, hop: number) => hop < config.trustProxy : false,
    // Long path parameters reach the route's schema (a 400 naming them) instead of a bare 414.
    routerOptions: { maxParamLength: 1000 },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  if (!deps.servedDates && config.servedDates > 0) {
    // The dashboard's latest dates in memory, kept current by LISTEN on a connection of its own.
    const served = new ServedDates(deps.pool, {
      maxDates: config.servedDates,
      listener: () => new pg.Client({ ...deps.pool.options }),
      log: (m) => app.log.warn(m),
    });
    // what-if's day panels: the same dates, dropped by the same messages, held only while they are heard
    const panels = new DayPanelCache(config.servedDates, () => served.live);
    served.onDrop((payload) => panels.drop(payload));
    deps = { ...deps, servedDates: served, panels };
    app.addHook('onReady', () => served.start());
    app.addHook('onClose', () => served.stop());
  }
  const { db } = deps;
  const accounts = deps.accounts ?? new AccountCache(config.authCacheMs, (id) => accountById(db, id));
  deps = { ...deps, accounts };
  app.decorate('deps', deps);
  // Beyond this many open sockets, node closes a new one at once: file descriptors stay for the
  // clients already connected (and for the database pool).
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
  // An integer in the path or the query is decimal digits and nothing else: the coercion would take
  // "0x1", " 1", "+1" or "1e0" as 1. Refused here, before any handler or the database sees it.
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema;
    for (const [part, values] of [
      ['params', request.params],
      ['querystring', request.query],
    ] as const) {
      const properties = (schema?.[part] as { properties?: Record<string, { type?: unknown }> } | undefined)
        ?.properties;
      if (!properties || !values || typeof values !== 'object') continue;
      for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        if (properties[name]?.type === 'integer' && typeof value === 'string' && !/^[0-9]{1,16}$/.test(value))
          throw new ApiError(
            400,
            'bad_request',
            `${part} parameter "${name}": must be a whole number in decimal digits`,
          );
      }
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
  // expiry); the user's token version and rights are read from the store (AccountCache).
  await app.register(jwt, {
    secret: deps.secret,
    sign: { algorithm: 'HS256', expiresIn: config.tokenTtlSeconds },
    verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub', 'tv'], cache: true },
  });

  // The web app's session cookie carries the same token as the Authorization header.
  await app.register(cookie);
  app.addHook('onRequest', sessionFromCookie(config));
  webBuilt = await webApp(app);

  await app.register(healthRoutes);
  const limits = new CredentialLimits({
    perUser: config.loginLimitPerUser,
    perAddress: config.loginLimitPerAddress,
    windowSeconds: config.loginWindowSeconds,
  });
  await app.register(authRoutes, { prefix: '/api/v1/auth', limits });
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
      // the row as the store has it, reused for at most FU_AUTH_CACHE_MS (this process's own
      // changes to it drop it at once: see the account routes)
      let account = await accounts.get(token.sub);
      if (account && account.token_version !== token.tv) {
        // A token of another version than the row held: the row may be the stale one (a sign-in
        // after a revocation made elsewhere), so the store decides.
        accounts.forget(token.sub);
        account = await accounts.get(token.sub);
      }
      if (!account || account.token_version !== token.tv)
        throw unauthorized('this token was revoked (signed out, password changed or user changed)');
      request.user = { sub: account.id, username: account.username, admin: account.is_admin };
    });
    await secured.register(accountRoutes, { prefix: '/api/v1/auth', limits });
    await secured.register(symbolRoutes, { prefix: '/api/v1/data' });
    await secured.register(portfolioRoutes, { prefix: '/api/v1/portfolios' });
    await secured.register(limitRoutes, { prefix: '/api/v1/portfolios' });
    await secured.register(reportRoutes, { prefix: '/api/v1/portfolios' });
    await secured.register(analyticsRoutes, { prefix: '/api/v1/analytics' });
    await secured.register(riskRoutes, { prefix: '/api/v1' });
    await secured.register(validationRoutes, { prefix: '/api/v1' });
    await secured.register(batchRoutes, { prefix: '/api/v1/batch' });
    await secured.register(progressRoutes, { prefix: '/api/v1' });
  });
  return app;
}
