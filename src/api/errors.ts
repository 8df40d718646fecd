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

/** Seconds a client is asked to wait (`Retry-After`) when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * SQLSTATE classes and codes that mean "the database is not there right now", not "the request was
 * wrong": connection exceptions (08), operator intervention (57: shutdown, cancel, statement
 * timeout), insufficient resources (53: too many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08|57|53)/;
const UNAVAILABLE_SYSCALL = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/** What pg and pg-pool say, without a code, when a connection, a checkout or a query timed out or died. */
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|connection terminated|query read timeout|client has encountered a connection error|connection timeout|cannot use a pool after calling end|client was closed|not queryable/i;

/**
 * True when `e` says the database could not be reached or did not answer in time (→ 503 with
 * Retry-After), as opposed to a bug or a bad request.
 *
 * Example: a pg error `{code: '57014'}` (statement timeout) → true; `{code: '23505'}` → false.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SYSCALL.has(code)))
    return true;
  if (e instanceof AggregateError) return e.errors.some(isDatabaseUnavailable);
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}
