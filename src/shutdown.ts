/**
 * Stopping a process cleanly on SIGINT (Ctrl-C) and SIGTERM, for commands and workers alike.
 *
 * The first signal says what is stopping, aborts `signal` (work that checks it stops after its
 * current unit: a date, a job), and gives the tracked work `graceMs` to finish. Then the hooks run
 * in reverse order of registration, each with a time limit (close the pool, then stop the embedded
 * server), and the process exits: with the work's own exit code if it finished in time, otherwise
 * 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). Work cut off at that point is
 * abandoned, not half-written: it runs in transactions, which PostgreSQL rolls back when the
 * connection goes. A second signal exits at once.
 *
 *   const shutdown = new Shutdown({ what: 'batch backfill' }).install();
 *   shutdown.onStop(() => database.close());
 *   const code = await shutdown.track(work(shutdown.signal));
 */
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNAL_NUMBERS;

export interface ShutdownOptions {
  /** What is stopping, for the message ("factor-universe batch backfill"). */
  what?: string;
  /** How long the current work may take to finish after the first signal. */
  graceMs?: number;
  /** Time limit of each hook. */
  hookTimeoutMs?: number;
  log?: (line: string) => void;
  exit?: (code: number) => never | void;
}

/** The reason `signal` is aborted with: work that sees it stops and rethrows it. */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor(readonly signalName: StopSignal) {
    super(`interrupted by ${signalName}`);
  }
}

let installedCount = 0;

/** True while a Shutdown governs this process's signals (the embedded server then leaves them to it). */
export const shutdownInstalled = (): boolean => installedCount > 0;

export class Shutdown {
  readonly #controller = new AbortController();
  /** Aborted (with an Interrupted) on the first signal. */
  readonly signal: AbortSignal = this.#controller.signal;
  readonly #hooks: (() => unknown)[] = [];
  readonly #options: Required<ShutdownOptions>;
  #work: Promise<unknown> | undefined;
  #stopping: Promise<number> | undefined;
  #installed = false;

  constructor(options: ShutdownOptions = {}) {
    this.#options = {
      what: options.what ?? 'the process',
      graceMs: options.graceMs ?? 10_000,
      hookTimeoutMs: options.hookTimeoutMs ?? 5_000,
      log: options.log ?? ((line) => console.error(line)),
      exit: options.exit ?? ((code) => process.exit(code)),
    };
  }

  install(): this {
    if (this.#installed) return this;
    for (const s of Object.keys(SIGNAL_NUMBERS)) process.on(s, this.#onSignal);
    this.#installed = true;
    installedCount++;
    return this;
  }

  dispose(): void {
    if (!this.#installed) return;
    for (const s of Object.keys(SIGNAL_NUMBERS)) process.off(s, this.#onSignal);
    this.#installed = false;
    installedCount--;
  }

  /** Runs `hook` when stopping (hooks run last-registered first); returns a function that removes it. */
  onStop(hook: () => unknown): () => void {
    this.#hooks.push(hook);
    return () => {
      const i = this.#hooks.indexOf(hook);
      if (i >= 0) this.#hooks.splice(i, 1);
    };
  }

  /** The work a signal lets finish (for up to graceMs); resolves to an exit code. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#work = work;
    return work;
  }

  /** Set once a signal arrived: resolves to the exit code after the hooks ran (just before exit). */
  get stopping(): Promise<number> | undefined {
    return this.#stopping;
  }

  readonly #onSignal = (name: StopSignal): void => {
    const code = 128 + SIGNAL_NUMBERS[name];
    const { log, exit, graceMs, what } = this.#options;
    if (this.#stopping) {
      log(`${name} again: stopping at once.`);
      exit(code);
      return;
    }
    const again = name === 'SIGINT' ? 'Ctrl-C' : name;
    log(
      `Stopping ${what} (${name}): finishing the current step for up to ${graceMs / 1000} s; ${again} again stops at once.`,
    );
    this.#controller.abort(new Interrupted(name));
    this.#stopping = this.#stop(code);
  };

  async #stop(signalCode: number): Promise<number> {
    const { log, exit, graceMs, hookTimeoutMs } = this.#options;
    const finished = this.#work
      ? await within(
          this.#work.then(asExitCode, () => undefined),
          graceMs,
        )
      : undefined;
    for (const hook of [...this.#hooks].reverse()) {
      try {
        await within(
          Promise.resolve(hook()),
          hookTimeoutMs,
          () => new Error(`took over ${hookTimeoutMs} ms`),
        );
      } catch (e) {
        log(`While stopping: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const code = finished ?? signalCode;
    log(
      finished === undefined ? 'Stopped before the end; run the command again to complete it.' : 'Stopped.',
    );
    exit(code);
    return code;
  }
}

const asExitCode = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `p`'s value if it settles within `ms`; otherwise undefined, or the error of `timeout` if given. */
async function within<T>(p: Promise<T>, ms: number, timeout?: () => Error): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve, reject) => {
    timer = setTimeout(() => (timeout ? reject(timeout()) : resolve(undefined)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
