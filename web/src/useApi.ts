import { useEffect, useState } from 'react';
import { api } from './api.ts';

/** Loads an API path (null: nothing yet); re-loads when the path changes, ignoring stale answers. */
export function useApi<T>(path: string | null): { data: T | undefined; error: unknown; loading: boolean } {
  const [state, setState] = useState<{ path: string | null; data?: T; error?: unknown }>({ path: null });
  useEffect(() => {
    if (path === null) return;
    let live = true;
    api<T>(path).then(
      (data) => live && setState({ path, data }),
      (error: unknown) => live && setState({ path, error }),
    );
    return () => {
      live = false;
    };
  }, [path]);
  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: path !== null && !current,
  };
}
