import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The browser's session: the same JWT as the `Authorization` header, kept in an httpOnly,
 * SameSite=Strict cookie so no script can read it and no other site can send it.
 */
export const SESSION_COOKIE = 'fu_session';

/** Sets the session cookie; it lives as long as the token. */
export function setSessionCookie(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: reply.request.protocol === 'https',
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/' });
}

/**
 * onRequest hook: a request without an `Authorization` header but with the session cookie is
 * authenticated by the cookie's token (the header wins when both are present).
 */
export async function tokenFromCookie(request: FastifyRequest): Promise<void> {
  if (request.headers.authorization) return;
  const token = request.cookies?.[SESSION_COOKIE];
  if (token) request.headers.authorization = `Bearer ${token}`;
}
