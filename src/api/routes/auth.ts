import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { verifyPassword } from '../../users/users.ts';
import { ApiError } from '../server.ts';
import { clearSessionCookie, setSessionCookie } from '../session.ts';
import { ErrorBody } from '../schemas.ts';

const Credentials = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
const Me = Type.Object({ username: Type.String(), admin: Type.Boolean() });

/**
 * POST /api/v1/auth/login: username and password for a short-lived JWT. The web app signs in with
 * POST /api/v1/auth/session instead (the token goes only into an httpOnly cookie), and out with
 * POST /api/v1/auth/logout.
 */
export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The signed token for a valid username and password, or a 401 (as slow either way). */
  async function signIn(username: string, password: string) {
    const user = await app.deps.db
      .selectFrom('users')
      .select(['id', 'username', 'password_hash', 'is_admin'])
      .where('username', '=', username)
      .executeTakeFirst();
    // Compare even for an unknown user, so the answer takes as long either way.
    const ok = await verifyPassword(
      password,
      user?.password_hash ?? '$2b$10$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva',
    );
    if (!user || !ok) throw new ApiError(401, 'unauthorized', 'unknown user or wrong password');
    const token = await app.jwt.sign({ sub: user.id, username: user.username, admin: user.is_admin });
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
          400: ErrorBody,
          401: ErrorBody,
        },
      },
    },
    async (request) => {
      const { token } = await signIn(request.body.username, request.body.password);
      return { token, token_type: 'Bearer' as const, expires_in: app.deps.config.tokenTtlSeconds };
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
          400: ErrorBody,
          401: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { token, username, admin } = await signIn(request.body.username, request.body.password);
      const ttl = app.deps.config.tokenTtlSeconds;
      setSessionCookie(reply, token, ttl);
      return { username, admin, expires_in: ttl };
    },
  );

  app.post(
    '/logout',
    {
      schema: {
        summary: "Sign out: clears the browser's session cookie",
        security: [],
        response: { 204: Type.Null() },
      },
    },
    async (_request, reply) => {
      clearSessionCookie(reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      schema: {
        summary: 'The signed-in user (from the bearer token or the session cookie)',
        response: { 200: Me, 401: ErrorBody },
      },
    },
    async (request) => {
      try {
        await request.jwtVerify();
      } catch {
        throw new ApiError(401, 'unauthorized', 'not signed in, or the session expired');
      }
      return { username: request.user.username, admin: request.user.admin };
    },
  );
};
