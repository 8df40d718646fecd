import { Type, type TSchema } from 'typebox';

/** Shared schema pieces of the routes. */
export const IsoDate = Type.String({ format: 'date', description: 'a calendar date, YYYY-MM-DD' });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
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
