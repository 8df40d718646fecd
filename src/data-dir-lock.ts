import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * One `start` per data folder. A second `start` on a folder a live process serves used to attach
 * to that process's embedded PostgreSQL and then depend on its life (when the first stopped, the
 * others answered 503 for ever). Now it refuses, naming the process that holds the folder.
 *
 * The lock is a file `<dataDir>/start.lock` created exclusively (`wx`), holding the owner's pid and
 * start time. A lock whose process is gone (killed, machine rebooted) is stale and taken over.
 * Limit: a pid reused by an unrelated process after a crash looks alive; the message names it, and
 * deleting the file clears it.
 */
export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    since: string,
  ) {
    super(
      `The data folder ${dataDir} is in use by another "factor-universe start" (process ${pid}, since ${since}). ` +
        `Stop that process first, or give this one another FU_DATA_DIR. ` +
        `(If process ${pid} is not ours, delete ${path.join(dataDir, LOCK_FILE)}.)`,
    );
  }
}

const LOCK_FILE = 'start.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

/** Takes the data folder for this process; returns the release (also run on exit). */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, since: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx', mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
    }
    let holder: { pid?: unknown; since?: unknown } = {};
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
    } catch {
      /* unreadable or half-written: treated as stale below */
    }
    const pid = Number(holder.pid);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
      throw new DataDirBusyError(dataDir, pid, String(holder.since ?? 'an unknown time'));
    try {
      unlinkSync(file); // stale: its process is gone
    } catch {
      /* another process took it over first: the next attempt sees its lock */
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
  process.on('exit', release);
  return release;
}
