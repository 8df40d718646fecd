import { Type, type Static, type TSchema } from 'typebox';

/** Shared schema pieces of the routes. */
export const IsoDate = Type.String({ format: 'date', description: 'a calendar date, YYYY-MM-DD' });

/**
 * A value or null. For a primitive it is written `type: [t, 'null']` rather than `anyOf`: the
 * response serialiser then writes it directly instead of trying each branch in turn.
 */
export function Nullable<T extends TSchema>(t: T) {
  const type = (t as { type?: unknown }).type;
  if (typeof type === 'string' && type !== 'object' && type !== 'array') {
    return Type.Unsafe<Static<T> | null>({ ...t, type: [type, 'null'] });
  }
  return Type.Union([t, Type.Null()]);
}
export const ErrorBody = Type.Object({
  error: Type.String(),
  message: Type.String(),
  details: Type.Unknown(),
});
export const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/** A string from a fixed list, as a JSON Schema `enum` (one clear error naming the allowed values). */
export const StringEnum = <T extends string>(
  values: readonly T[],
  options: { default?: T; description?: string } = {},
) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
