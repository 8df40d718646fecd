import { Type, type Static, type TSchema } from 'typebox';

/** Shared schema pieces of the routes. */
export const IsoDate = Type.String({
  format: 'date',
  pattern: '^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}$', // PostgreSQL has no year 0
  description: 'a calendar date, YYYY-MM-DD',
});

/**
 * A value or null. For a primitive it is written `type: [t, 'null']` rather than `anyOf`: the
 * response serialiser then writes it directly instead of trying each branch in turn.
 */
export function Nullable<T extends TSchema>(t: T) {
  const type = (t as { type?: unknown }).type;
  if (typeof type === 'string' && type !== 'object' && type !== 'array') {
    // an enum must list null too, or a null value fails the enum though its type allows it
    const values = (t as { enum?: unknown[] }).enum;
    return Type.Unsafe<Static<T> | null>({
      ...t,
      type: [type, 'null'],
      ...(values ? { enum: [...values, null] } : {}),
    });
  }
  return Type.Union([t, Type.Null()]);
}
/** Every error answer: a code, a message naming the field at fault, details; `request_id` on 5xx and others. */
export const ErrorBody = Type.Object({
  error: Type.String(),
  message: Type.String(),
  details: Type.Unknown(),
  request_id: Type.Optional(Type.String()),
});
/**
 * The error answers every route may give: bad parameter, no or revoked token, not found, body too
 * large or of the wrong type, internal error (with a request id), database unavailable (with
 * Retry-After).
 */
export const errors = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
};

/** Database ids are 32-bit integers: anything larger is refused by the schema, not by the database. */
export const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
/** Paging offset: bounded so `offset=1e300` is a 400, not an error deep in the database. */
export const Offset = Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 });
/** Text without control characters (NUL bytes cannot be stored in PostgreSQL text). */
export const PLAIN_TEXT = '^[^\\u0000-\\u001f\\u007f]*$';

/** A string from a fixed list, as a JSON Schema `enum` (one clear error naming the allowed values). */
export const StringEnum = <T extends string>(
  values: readonly T[],
  options: { default?: T; description?: string } = {},
) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/**
 * Paging of a list that grows with the data: `limit` (default `byDefault`, at most `max`) and
 * `offset`; the answer carries `total`, `limit` and `offset` beside the rows.
 */
export const pageQuery = (byDefault: number, max: number) => ({
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: max,
      default: byDefault,
      description: `rows per page (at most ${max})`,
    }),
  ),
  offset: Type.Optional(Offset),
});
export const PageFields = {
  total: Type.Integer({ description: 'rows in the whole list' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
};
/** Page sizes of the portfolio lists: a default page, and the most one request may take. */
export const LIST_PAGE = { byDefault: 1000, max: 10_000 };
