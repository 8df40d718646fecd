import type pg from 'pg';
import type { RunStatus } from '../db/schema.ts';
import { getRun, runProgress, type StageProgress } from './runs.ts';

/** A run's state as a waiting process sees it. */
export interface RunSnapshot {
  status: RunStatus;
  error: string | null;
  days: number;
  blockDays: number;
  stages: StageProgress[];
  elapsedMs: number;
}

/**
 * Polls a run until it finishes (or `signal` aborts the wait), handing every snapshot to `onUpdate`.
 * A database that is briefly away is waited for; the run goes on in the workers meanwhile.
 */
export async function waitForRun(
  pool: pg.Pool,
  runId: string,
  onUpdate: (s: RunSnapshot) => void,
  options: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<RunSnapshot> {
  const started = performance.now();
  let last: RunSnapshot | undefined;
  while (!options.signal?.aborted) {
    try {
      const run = await getRun(pool, runId);
      if (!run) throw new Error(`run ${runId} does not exist`);
      last = {
        status: run.status,
        error: run.error,
        days: run.days?.length ?? 0,
        blockDays: run.block_days,
        stages: await runProgress(pool, runId),
        elapsedMs: performance.now() - started,
      };
      onUpdate(last);
      if (run.status === 'completed' || run.status === 'failed') return last;
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('run ')) throw e;
      // connection trouble: keep waiting, the workers retry on their own
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
  if (!last) throw new Error('stopped before the run was seen');
  return last;
}

/** 42.3 → "42.3s"; 133.6 → "2m14s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

/**
 * Progress for people. On a terminal, one line redrawn in place: the stage being worked with its
 * partitions done / total, all jobs done / expected, items per second, ETA. Otherwise (logs, CI) one
 * plain line per stage when it finishes. `verbose` adds a line whenever jobs finish.
 */
export function progressPrinter(
  stream: NodeJS.WriteStream,
  stages: readonly { name: string; scope: 'run' | 'block' }[],
  verbose = false,
) {
  const reported = new Set<string>();
  let lastDone = 0;
  return (s: RunSnapshot): void => {
    const byName = new Map(s.stages.map((x) => [x.stage, x]));
    const blocksOf = s.days > 0 ? Math.ceil(s.days / s.blockDays) : 0;
    const rows = stages.map(({ name, scope }) => {
      const p = byName.get(name);
      // Jobs a stage will have: its partitions, once per block for block stages (once days are known).
      const expected = p ? (scope === 'run' ? p.total : blocksOf * p.partitions) : 0;
      return { name, p, expected, finished: !!p && expected > 0 && p.completed + p.failed >= expected };
    });
    const done = rows.reduce((a, r) => a + (r.p ? r.p.completed + r.p.failed : 0), 0);
    const expected = rows.reduce((a, r) => a + Math.max(r.expected, r.p?.total ?? 0), 0);
    const items = rows.reduce((a, r) => a + (r.p?.items ?? 0), 0);
    const secs = s.elapsedMs / 1000;
    const over = s.status === 'completed' || s.status === 'failed';
    if (stream.isTTY) stream.write('\r\x1b[K');
    for (const r of rows) {
      if (reported.has(r.name) || !r.p || !(r.finished || over)) continue;
      reported.add(r.name);
      stream.write(
        `${r.name}: ${r.p.completed}/${r.p.total} jobs${r.p.failed ? `, ${r.p.failed} failed` : ''}, ` +
          `${r.p.items.toLocaleString('en-US')} items (at ${formatSeconds(secs)})\n`,
      );
    }
    if (verbose && done !== lastDone)
      stream.write(`  ${done}/${expected} jobs done (${formatSeconds(secs)})\n`);
    lastDone = done;
    if (over) {
      stream.write(
        `run ${s.status} in ${formatSeconds(secs)}: ${s.days} trading day(s), ${done} jobs` +
          (s.error ? `; ${s.error}` : '') +
          '\n',
      );
    } else if (stream.isTTY) {
      const current = rows.find((r) => r.p && !r.finished);
      const width = 24;
      const filled = expected ? Math.round((done / expected) * width) : 0;
      const rate = items / Math.max(secs, 1e-3);
      const eta = done > 0 && expected > done ? (secs / done) * (expected - done) : NaN;
      stream.write(
        `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${current?.name ?? 'starting'} ` +
          `${current?.p ? `${current.p.completed}/${current.expected || current.p.total} ` : ''}| ` +
          `${done}/${expected} jobs | ${Math.round(rate).toLocaleString('en-US')} items/s | ETA ${formatSeconds(eta)}`,
      );
    }
  };
}
