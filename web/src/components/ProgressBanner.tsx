import { useEffect, useState } from 'react';
import { api } from '../api.ts';

/** GET /api/v1/progress: the pipeline run in progress, if any. */
interface Progress {
  run: { from: string; to: string; status: string; days_total: number; days_done: number } | null;
}

/**
 * While the pipeline computes (`npm start` serves first, then computes its recent days in the
 * background), a banner says which days and how many are done; every page already shows the dates
 * done. Polls every 3 s while a run is active, every 30 s otherwise; gone when nothing runs.
 */
export function ProgressBanner() {
  const [run, setRun] = useState<Progress['run']>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const next = await api<Progress>('/progress').then(
        (p) => p.run,
        () => null,
      );
      if (stopped) return;
      setRun(next);
      timer = setTimeout(poll, next ? 3000 : 30000);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  if (!run) return null;
  return (
    <div className="progress-banner" role="status" data-testid="progress-banner">
      computing {run.from} … {run.to}: {run.days_done} of {run.days_total} days
      <progress max={Math.max(1, run.days_total)} value={run.days_done} />
    </div>
  );
}
