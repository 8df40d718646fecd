import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { verifyPassword } from '../../users/users.ts';
import { ApiError } from '../server.ts';
import { ErrorBody } from '../schemas.ts';

/** POST /api/v1/auth/login: username and password for a short-lived JWT. */
export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/login',
    {
      schema: {
        security: [],
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 256 }),
          },
          { additionalProperties: false },
        ),
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
      const { username, password } = request.body;
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
      return { token, token_type: 'Bearer' as const, expires_in: app.deps.config.tokenTtlSeconds };
    },
  );
};
