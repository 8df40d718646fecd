import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  DUMMY_HASH,
  HashQueueFullError,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../../users/passwords.ts';
import { accountForLogin, replaceHash, revokeTokens } from '../../users/users.ts';
import { ApiError } from '../errors.ts';
import { clearSessionCookie, setSessionCookie } from '../session.ts';
import type { CredentialLimits } from '../rate-limit.ts';
import { ErrorBody, errors, PLAIN_TEXT } from '../schemas.ts';

const Username = Type.String({ minLength: 1, maxLength: 64, pattern: PLAIN_TEXT });
const Password = Type.String({ minLength: 1, maxLength: 256, pattern: PLAIN_TEXT });

const Credentials = Type.Object({ username: Username, password: Password }, { additionalProperties: false });

/** Counts a password check against the shared limits; 429 with Retry-After beyond them. */
function limitCredentialCheck(
  limits: CredentialLimits,
  request: FastifyRequest,
  reply: FastifyReply,
  username: string,
): void {
  const wait = limits.hit(request.ip, username);
  if (wait > 0) {
    reply.header('retry-after', String(wait));
    throw new ApiError(429, 'too_many_requests', `too many password attempts; try again in ${wait} s`, {
      retry_after_seconds: wait,
    });
  }
}

/** The password checked on the hash pool; a full queue answers 503 with Retry-After. */
async function checkPassword(reply: FastifyReply, password: string, hash: string): Promise<boolean> {
  return verifyPassword(password, hash).catch((e: Error) => {
    if (!(e instanceof HashQueueFullError)) throw e;
    reply.header('retry-after', '5');
    throw new ApiError(503, 'busy', 'too many sign-ins at once; try again shortly');
  });
}

/**
 * POST /api/v1/auth/login: username and password for a short-lived JWT. The web app signs in with
 * POST /api/v1/auth/session instead (the token goes only into an httpOnly cookie), and out with
 * POST /api/v1/auth/logout. Attempts are limited per username and per client address (429 with
 * Retry-After); the password is checked on libuv's thread pool (scrypt), so a flood of logins does
 * not stall other requests.
 */
export const authRoutes: FastifyPluginAsyncTypebox<{ limits: CredentialLimits }> = async (
  app,
  { limits },
) => {
  const { config } = app.deps;

  /** The signed token for a valid username and password; 401, 429 or 503 otherwise. */
  async function signIn(
    request: FastifyRequest,
    reply: FastifyReply,
    username: string,
    password: string,
  ): Promise<{ token: string; username: string; admin: boolean }> {
    limitCredentialCheck(limits, request, reply, username);
    const user = await accountForLogin(app.deps.db, username);
    // Compare even for an unknown user, so the answer takes as long either way.
    const ok = await checkPassword(reply, password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok) throw new ApiError(401, 'unauthorized', 'unknown user or wrong password');
    if (needsRehash(user.password_hash))
      await replaceHash(app.deps.db, user.id, await hashPassword(password));
    const token = await app.jwt.sign({ sub: user.id, username: user.username, tv: user.token_version });
    return { token, username: user.username, admin: user.is_admin };
  }

  app.post(
    '/login',
    {
      schema: {
        security: [],
        body: Credentials,
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
      const { token } = await signIn(request, reply, request.body.username, request.body.password);
      return { token, token_type: 'Bearer' as const, expires_in: config.tokenTtlSeconds };
    },
  );

  app.post(
    '/session',
    {
      schema: {
        summary: 'Sign in from a browser: the token is set as an httpOnly, SameSite=Strict cookie',
        security: [],
        body: Credentials,
        response: {
          200: Type.Object({ username: Type.String(), admin: Type.Boolean(), expires_in: Type.Integer() }),
          ...errors,
          429: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { token, username, admin } = await signIn(
        request,
        reply,
        request.body.username,
        request.body.password,
      );
      setSessionCookie(reply, token, config.tokenTtlSeconds, config);
      return { username, admin, expires_in: config.tokenTtlSeconds };
    },
  );

  app.post(
    '/logout',
    {
      schema: {
        summary: "Sign out: clears the browser's session cookie",
        security: [],
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (_request, reply) => {
      clearSessionCookie(reply);
      return reply.status(204).send(null);
    },
  );
};

/**
 * The signed-in user's own account: sign out everywhere, change the password (both revoke every
 * token). The current password is a credential check like a sign-in: it counts against the same
 * limits (429), so a stolen session cannot be used to guess it.
 */
export const accountRoutes: FastifyPluginAsyncTypebox<{ limits: CredentialLimits }> = async (
  app,
  { limits },
) => {
  app.get(
    '/me',
    {
      schema: {
        summary:
          'The signed-in user (from the bearer token or the session cookie), with rights from the store',
        response: { 200: Type.Object({ username: Type.String(), admin: Type.Boolean() }), ...errors },
      },
    },
    async (request) => ({ username: request.user.username, admin: request.user.admin }),
  );
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
      app.deps.accounts?.forget(request.user.sub);
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
        response: { 200: Revoked, ...errors, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      limitCredentialCheck(limits, request, reply, request.user.username);
      const user = await accountForLogin(app.deps.db, request.user.username);
      if (!user || !(await checkPassword(reply, request.body.current_password, user.password_hash)))
        throw new ApiError(400, 'bad_request', 'body parameter "current_password": wrong password');
      await revokeTokens(app.deps.db, user.id, request.body.new_password);
      app.deps.accounts?.forget(user.id);
      return { revoked: true as const };
    },
  );
};
