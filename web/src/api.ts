/**
 * The web app's only way to the server: the public /api/v1, authenticated by the httpOnly session
 * cookie the browser sends by itself. A 401 means the session ended: the app goes to sign-in and
 * comes back to the page afterwards.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (f: () => void) => {
  onUnauthorized = f;
};

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const res = await fetch(`/api/v1${path}`, {
    credentials: 'same-origin',
    ...rest,
    ...(json !== undefined && {
      method: rest.method ?? 'POST',
      body: JSON.stringify(json),
      headers: { 'content-type': 'application/json' },
    }),
  });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => null)) as
    (T & { error?: string; message?: string; details?: unknown }) | null;
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
    throw new ApiError(res.status, body?.error ?? 'error', body?.message ?? res.statusText, body?.details);
  }
  return body as T;
}

export const qs = (params: Record<string, string | number | undefined | null>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

export interface Me {
  username: string;
  admin: boolean;
}
