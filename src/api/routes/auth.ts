import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DUMMY_HASH,
  HashQueueFullError,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../../users/passwords.ts';
import { accountForLogin, replaceHash, revokeTokens } from '../../users/users.ts';
import { ApiError } from '../errors.ts';
import { WindowLimiter } from '../rate-limit.ts';
import { ErrorBody, errors, PLAIN_TEXT } from '../schemas.ts';

const Username = Type.String({ minLength: 1, maxLength: 64, pattern: PLAIN_TEXT });
const Password = Type.String({ minLength: 1, maxLength: 256, pattern: PLAIN_TEXT });

/**
 * POST /api/v1/auth/login: username and password for a short-lived JWT. Attempts are limited per
 * username and per client address (429 with Retry-After); the password is checked on libuv's thread
 * pool (scrypt), so a flood of logins does not stall other requests.
 */
export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app.deps;
  const windowMs = config.loginWindowSeconds * 1000;
  const perUser = new WindowLimiter(config.loginLimitPerUser, windowMs);
  const perAddress = new WindowLimiter(config.loginLimitPerAddress, windowMs);

  app.post(
    '/login',
    {
      schema: {
        security: [],
        body: Type.Object({ username: Username, password: Password }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            token: Type.String(),
            token_type: Type.Literal('Bearer'),
            expires_in: Type.Integer(),
          }),
          ...errors,
          429: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const wait = Math.max(perAddress.hit(request.ip), perUser.hit(username.toLowerCase()));
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw new ApiError(429, 'too_many_requests', `too many sign-in attempts; try again in ${wait} s`, {
          retry_after_seconds: wait,
        });
      }
      const user = await accountForLogin(app.deps.db, username);
      // Compare even for an unknown user, so the answer takes as long either way.
      const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH).catch((e: Error) => {
        if (!(e instanceof HashQueueFullError)) throw e;
        reply.header('retry-after', '5');
        throw new ApiError(503, 'busy', 'too many sign-ins at once; try again shortly');
      });
      if (!user || !ok) throw new ApiError(401, 'unauthorized', 'unknown user or wrong password');
      if (needsRehash(user.password_hash))
        await replaceHash(app.deps.db, user.id, await hashPassword(password));
      const token = await app.jwt.sign({ sub: user.id, username: user.username, tv: user.token_version });
      return { token, token_type: 'Bearer' as const, expires_in: config.tokenTtlSeconds };
    },
  );
};

/** The signed-in user's own account: sign out everywhere, change the password (both revoke every token). */
export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const Revoked = Type.Object({ revoked: Type.Literal(true) });
  app.post(
    '/logout-all',
    {
      schema: {
        summary: 'Sign out everywhere: every token of the user stops working at once',
        response: { 200: Revoked, ...errors },
      },
    },
    async (request) => {
      await revokeTokens(app.deps.db, request.user.sub);
      return { revoked: true as const };
    },
  );
  app.post(
    '/password',
    {
      schema: {
        summary: "Change the signed-in user's password; every token of the user stops working",
        body: Type.Object(
          {
            current_password: Password,
            new_password: Type.String({ minLength: 8, maxLength: 256, pattern: PLAIN_TEXT }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Revoked, ...errors },
      },
    },
    async (request) => {
      const user = await accountForLogin(app.deps.db, request.user.username);
      if (!user || !(await verifyPassword(request.body.current_password, user.password_hash)))
        throw new ApiError(400, 'bad_request', 'body parameter "current_password": wrong password');
      await revokeTokens(app.deps.db, user.id, request.body.new_password);
      return { revoked: true as const };
    },
  );
};
