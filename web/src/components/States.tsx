import type { ReactNode } from 'react';

export const Loading = ({ what }: { what: string }) => (
  <div className="state loading" role="status">
    Loading {what}…
  </div>
);
export const Empty = ({ children }: { children: ReactNode }) => <div className="state empty">{children}</div>;
export const Failed = ({ error }: { error: unknown }) => (
  <div className="state error" role="alert">
    {error instanceof Error ? error.message : String(error)}
  </div>
);
