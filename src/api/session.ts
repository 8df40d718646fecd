import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { ApiError } from './errors.ts';

/**
 * The browser's session: the same JWT as the `Authorization` header, kept in an httpOnly,
 * SameSite=Strict cookie so no script can read it and no other site can send it.
 */
export const SESSION_COOKIE = 'fu_session';

/**
 * Sets the session cookie; it lives as long as the token. It is `Secure` when the request came over
 * HTTPS, and always behind a trusted proxy (FU_TRUST_PROXY: the proxy is taken to terminate TLS).
 */
export function setSessionCookie(
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
  config: Pick<Config, 'trustProxy'>,
): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: reply.request.protocol === 'https' || config.trustProxy > 0,
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/' });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin (scheme://host[:port]) of a URL, or undefined when it is not one. */
function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/**
 * onRequest hook: a request without an `Authorization` header but with the session cookie is
 * authenticated by the cookie's token (the header wins when both are present).
 *
 * A browser attaches the cookie to requests that other sites make it send (SameSite=Strict does not
 * cover another port or a subdomain), whatever their body or content type. So a cookie-authenticated
 * state-changing request (anything but GET, HEAD, OPTIONS) must say where it comes from: its
 * `Origin` (or, lacking one, its `Referer`) must be this server's own origin or one of
 * FU_CORS_ORIGINS; otherwise 403 before any handler runs. A browser sign-in (`POST /auth/session`)
 * from another origin is refused the same way. Bearer-token clients are not concerned: no browser
 * adds an `Authorization` header on its own.
 */
export function sessionFromCookie(config: Pick<Config, 'corsOrigins'>) {
  return async function tokenFromCookie(request: FastifyRequest): Promise<void> {
    if (request.headers.authorization) return;
    const token = request.cookies?.[SESSION_COOKIE];
    const signIn = request.url.split('?')[0] === '/api/v1/auth/session';
    if (!SAFE_METHODS.has(request.method) && (token || signIn)) {
      const claimed = request.headers.origin ?? request.headers.referer;
      const origin = typeof claimed === 'string' ? originOf(claimed) : undefined;
      const own = `${request.protocol}://${request.host}`;
      // A sign-in without any Origin or Referer is not a browser's: it carries no cookie to abuse.
      const allowed = origin === undefined ? !token : origin === own || config.corsOrigins.includes(origin);
      if (!allowed)
        throw new ApiError(
          403,
          'forbidden',
          origin === undefined
            ? 'a request authenticated by the session cookie must carry an Origin or Referer header'
            : `cross-origin request refused: ${origin} is not this site (${own})`,
        );
    }
    if (token) request.headers.authorization = `Bearer ${token}`;
  };
}
