import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Database, RunKind } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { loadModel, type FactorModel } from '../factors/model.ts';
import { blocks, dayContexts, loadCalendar, runDays, type Calendar, type DayContext } from './context.ts';
import {
  getRun,
  insertJobs,
  insertRun,
  jobCounts,
  lockRun,
  markJobActive,
  markJobCompleted,
  markJobFailed,
  markRunStarted,
  reconcileExpired,
  recordRunError,
  finishRun,
  setRunDays,
  stageJobs,
  type JobKey,
  type RunRow,
} from './runs.ts';
import { STAGES, type Stage } from './stages.ts';

/**
 * The job engine: pg-boss in our own PostgreSQL runs each (stage, date block, partition) as a job.
 * A run starts with the stages that come after nothing; the job that completes the last partition of
 * a stage's block enqueues, in the same transaction as its writes and its count, the stages whose
 * declared predecessors are then all complete. Any number of processes on any number of machines
 * work the same queue: jobs are idempotent, a duplicate delivery finds its row completed, and a job
 * whose worker died expires and is retried elsewhere.
 */

const QUEUE = 'pipeline';
const SCHEDULE_QUEUE = 'pipeline-schedule';
const POLL_MS = 500;
const RECONCILE_MS = 10_000;

interface JobData extends JobKey {
  partitions: number;
}

export interface EngineOptions {
  log?: (line: string) => void;
  /** Expire and retry the jobs of dead workers, run pg-boss maintenance (workers do; an API need not). */
  supervise?: boolean;
  /** Enqueue the daily run on `config.schedule` (cron) in `config.scheduleTimeZone`. */
  schedule?: boolean;
  /** The stage declarations (default: the day's flow of stages.ts); tests give their own. */
  stages?: readonly Stage[];
  /** Retries of a failing job and the first delay (default: the queue's, 3 and 2 s, backing off). */
  retry?: { limit: number; delaySeconds: number };
}

export interface RunRequest {
  from: string;
  to: string;
  kind: RunKind;
  force?: boolean;
  requestedBy?: string | null;
}

const sqlOn = (q: pg.Pool | pg.ClientBase): PgBoss.Db => ({
  executeSql: (text: string, values: unknown[]) => q.query(text, values),
});

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Checks the declarations once: unique names, predecessors declared earlier, run stages first. */
export function validateStages(stages: readonly Stage[]): void {
  const seen = new Map<string, Stage>();
  for (const s of stages) {
    if (seen.has(s.name)) throw new Error(`stage ${s.name} is declared twice`);
    for (const a of s.after) {
      const before = seen.get(a);
      if (!before) throw new Error(`stage ${s.name} comes after ${a}, which is not declared before it`);
      if (s.scope === 'run' && before.scope === 'block')
        throw new Error(`run stage ${s.name} cannot come after block stage ${a}`);
    }
    seen.set(s.name, s);
  }
}

export class PipelineEngine {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  private readonly runs = new Map<string, Promise<{ calendar: Calendar; model: FactorModel }>>();
  private readonly days = new Map<string, DayContext>();
  private reconcileTimer: NodeJS.Timeout | undefined;
  readonly stages: readonly Stage[];

  private constructor(
    readonly db: Kysely<Database>,
    readonly pool: pg.Pool,
    readonly config: Config,
    private readonly boss: PgBoss,
    private readonly log: (line: string) => void,
    /** The factor model's calendar symbol (SPY), read at start: no query while a transaction is open. */
    private readonly calendarSymbol: string,
    private readonly declared: readonly Stage[],
    private readonly retry: EngineOptions['retry'],
  ) {
    this.stages = declared.filter((s) => s.enabled?.(config) ?? true);
  }

  static async open(
    store: { db: Kysely<Database>; pool: pg.Pool },
    config: Config,
    options: EngineOptions = {},
  ): Promise<PipelineEngine> {
    const declared = options.stages ?? STAGES;
    validateStages(declared);
    const log = options.log ?? ((line: string) => console.error(line));
    const boss = new PgBoss({
      db: sqlOn(store.pool),
      schema: 'pgboss',
      migrate: false, // the schema is our migration 0005's; the application role needs no DDL
      supervise: options.supervise ?? true,
      schedule: options.schedule ?? false,
      // Expired jobs (a dead worker's) are found by the maintenance pass: often enough to retry them
      // within a minute of their expiry.
      maintenanceIntervalSeconds: Math.max(1, Math.min(10, Math.floor(config.jobExpireSeconds / 2))),
    });
    // pg-boss reports its background failures (a database restart, say) as events: logged, never fatal.
    boss.on('error', (e) => log(`job engine: ${message(e)}`));
    await boss.start();
    const { calendarSymbol } = (await loadModel(store.db)).settings;
    const engine = new PipelineEngine(
      store.db,
      store.pool,
      config,
      boss,
      log,
      calendarSymbol,
      declared,
      options.retry,
    );
    if (options.schedule) {
      // The schedule lives in the database (pg-boss's cron): set or replace it from the configuration,
      // and remove it when FU_SCHEDULE is unset. Workers then enqueue the day's run when it is due.
      if (config.schedule) {
        await boss.schedule(SCHEDULE_QUEUE, config.schedule, {}, { tz: config.scheduleTimeZone });
        await boss.work(SCHEDULE_QUEUE, async () => engine.scheduledRun());
      } else await boss.unschedule(SCHEDULE_QUEUE);
    }
    return engine;
  }

  /**
   * Creates a run and enqueues its first stages, in one transaction. A run active on an overlapping
   * range turns the request away with `ActiveRunError` (its id).
   */
  async createRun(req: RunRequest): Promise<string> {
    const id = randomUUID();
    await withTransaction(this.pool, async (client) => {
      await insertRun(client, {
        id,
        kind: req.kind,
        from: req.from,
        to: req.to,
        force: req.force ?? false,
        requestedBy: req.requestedBy ?? null,
      });
      for (const s of this.stages.filter((x) => x.after.length === 0))
        await this.enqueue(client, id, s, req.from, req.to);
    });
    this.wake();
    return id;
  }

  /** Works the queue with `concurrency` jobs at once until `stop`. */
  work(concurrency: number): void {
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop());
    this.reconcileTimer ??= setInterval(() => void this.reconcile(), RECONCILE_MS);
  }

  /** Stops taking jobs; waits up to `graceMs` for the jobs in hand (an abandoned one expires and is retried). */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake();
    clearInterval(this.reconcileTimer);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(this.loops).then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!finished) this.log('job engine: abandoning the job in hand; another worker will retry it');
    await this.boss.stop({ graceful: false, close: false, wait: true, timeout: 1000 }).catch(() => undefined);
  }

  private wake(): void {
    for (const w of this.sleepers) w();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    while (!this.stopping) {
      let job: PgBoss.JobWithMetadata<JobData> | undefined;
      try {
        [job] = await this.boss.fetch<JobData>(QUEUE, { includeMetadata: true, batchSize: 1 });
        backoff = 0;
      } catch (e) {
        backoff = Math.min(backoff * 2 || 500, 10_000);
        this.log(`job engine: cannot fetch jobs (${message(e)}); trying again in ${backoff} ms`);
        await this.sleep(backoff);
        continue;
      }
      if (job) await this.execute(job);
      else await this.sleep(POLL_MS);
    }
  }

  private async execute(job: PgBoss.JobWithMetadata<JobData>): Promise<void> {
    const k = job.data;
    const started = performance.now();
    const heartbeat = this.heartbeat(job.id);
    try {
      if (!(await markJobActive(this.pool, k))) {
        await this.boss.complete(QUEUE, job.id); // a duplicate delivery of a finished job
        return;
      }
      await markRunStarted(this.pool, k.runId);
      const run = await getRun(this.pool, k.runId);
      if (!run) throw new Error(`run ${k.runId} does not exist`);
      const stage = this.stage(k.stage);
      const days = stage.scope === 'block' ? await this.dayContexts(run, k.first, k.last) : [];
      const outcome = await stage.run({
        db: this.db,
        pool: this.pool,
        config: this.config,
        from: run.from_date,
        to: run.to_date,
        calendarSymbol: this.calendarSymbol,
        force: run.force,
        days,
        partition: { index: k.partition, count: k.partitions },
      });
      await withTransaction(this.pool, async (client) => {
        // A commit lost to a crash loses the job's completion with its rows (one transaction): the
        // job runs again. So the commit need not wait for the WAL flush.
        await client.query('SET LOCAL synchronous_commit = off');
        await outcome.save?.(client);
        const fresh = await markJobCompleted(client, k, {
          items: outcome.items,
          durationMs: performance.now() - started,
          details: outcome.details ?? {},
        });
        // Taken after our writes, so that of two last partitions finishing at once, the second to
        // get the lock sees the first's count (READ COMMITTED: each statement sees what committed).
        const locked = await lockRun(client, k.runId);
        if (fresh) await this.advance(client, locked, stage, k);
        await this.boss.complete(QUEUE, job.id, {}, { db: sqlOn(client) });
        await this.finishIfDone(client, k.runId);
      });
      this.wake();
    } catch (e) {
      await this.recordFailure(job, e, performance.now() - started);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * pg-boss 10 takes a job as lost when it has been active longer than its expiry, live worker or
   * not. So while a job runs, its start is moved forward every third of the expiry: a job of any
   * length lives as long as its worker does, and a dead worker's job expires within
   * FU_JOB_EXPIRE_SECONDS. (This writes pg-boss's `job.started_on` directly; v10 has no heartbeat.)
   */
  private heartbeat(jobId: string): NodeJS.Timeout {
    const every = Math.max(1000, (this.config.jobExpireSeconds * 1000) / 3);
    return setInterval(() => {
      this.pool
        .query("UPDATE pgboss.job SET started_on = now() WHERE name = $1 AND id = $2 AND state = 'active'", [
          QUEUE,
          jobId,
        ])
        .catch(() => undefined); // the database away: the job may expire, and is then retried
    }, every);
  }

  private async recordFailure(
    job: PgBoss.JobWithMetadata<JobData>,
    e: unknown,
    durationMs: number,
  ): Promise<void> {
    const k = job.data;
    const final = job.retryCount >= job.retryLimit;
    const text = message(e);
    this.log(
      `job ${k.stage} ${k.first}${k.first === k.last ? '' : `..${k.last}`} #${k.partition}: ${text}` +
        (final ? ' (no retries left)' : ' (will retry)'),
    );
    try {
      await this.boss.fail(QUEUE, job.id, { message: text });
      const recorded = await markJobFailed(this.pool, k, text, final, durationMs);
      // a duplicate delivery failing after the job completed (e.g. on the rows it wrote) changes nothing
      if (final && recorded)
        await withTransaction(this.pool, async (client) => {
          await lockRun(client, k.runId);
          await recordRunError(client, k.runId, `${k.stage} ${k.first}: ${text}`);
          await this.finishIfDone(client, k.runId);
        });
    } catch (e2) {
      // The database is away: the job stays active, expires and is retried once it is back.
      this.log(`job engine: could not record the failure (${message(e2)})`);
    }
  }

  private async finishIfDone(client: pg.ClientBase, runId: string): Promise<void> {
    const counts = await jobCounts(client, runId);
    if (counts.open === 0) await finishRun(client, runId, counts.failed);
  }

  /** Marks the jobs that expired on their last attempt failed, and finishes their runs. */
  private async reconcile(): Promise<void> {
    try {
      for (const runId of await reconcileExpired(this.pool))
        await withTransaction(this.pool, async (client) => {
          await lockRun(client, runId);
          await this.finishIfDone(client, runId);
        });
    } catch (e) {
      this.log(`job engine: reconcile failed (${message(e)})`);
    }
  }

  private stage(name: string): Stage {
    const s = this.declared.find((x) => x.name === name);
    if (!s) throw new Error(`unknown stage ${name}`);
    return s;
  }

  private async enqueue(
    client: pg.ClientBase,
    runId: string,
    stage: Stage,
    first: string,
    last: string,
  ): Promise<void> {
    const partitions = stage.partitions ? await stage.partitions(client, this.config) : 1;
    const jobs = [];
    for (let partition = 0; partition < partitions; partition++) {
      const data: JobData = { runId, stage: stage.name, first, last, partition, partitions };
      const key = `${first === last ? first : `${first}..${last}`}:${stage.name}:${partition}`;
      const bossJobId = await this.boss.send(QUEUE, data, {
        singletonKey: key,
        db: sqlOn(client),
        expireInSeconds: this.config.jobExpireSeconds,
        // Earlier stages first, so the day's main results come before the reference rows.
        priority: this.declared.length - this.declared.indexOf(stage),
        ...(this.retry ? { retryLimit: this.retry.limit, retryDelay: this.retry.delaySeconds } : {}),
      });
      if (!bossJobId) throw new Error(`a job ${key} is already queued (by another run); try again later`);
      jobs.push({ ...data, bossJobId });
    }
    await insertJobs(client, jobs);
  }

  /**
   * After a job completes: when its stage's block is complete, enqueue what became ready. After the
   * run stages, the run's trading days are resolved (once) and the block stages fan out.
   */
  private async advance(client: pg.ClientBase, run: RunRow, stage: Stage, k: JobKey): Promise<void> {
    const isComplete = async (s: Stage, first?: string) => {
      const jobs = await stageJobs(client, run.id, s.name, first);
      return jobs.length > 0 && jobs.every((j) => j.state === 'completed');
    };
    if (!(await isComplete(stage, k.first))) return;
    const runStages = this.stages.filter((s) => s.scope === 'run');
    if (stage.scope === 'run') {
      for (const s of runStages)
        if (s.after.includes(stage.name) && (await this.ready(s, isComplete)))
          await this.enqueue(client, run.id, s, run.from_date, run.to_date);
      for (const s of runStages) if (!(await isComplete(s))) return;
      const calendar = await loadCalendar(client, this.calendarSymbol);
      const days = runDays(calendar, run.from_date, run.to_date);
      if (days.length === 0) {
        await recordRunError(
          client,
          run.id,
          `no trading day in ${run.from_date}..${run.to_date}: import prices first`,
        );
        return;
      }
      const size = run.kind === 'backfill' ? this.config.blockDays : days.length;
      await setRunDays(client, run.id, days, size);
      const all = blocks(days, size);
      for (const [b, block] of all.entries())
        for (const s of this.stages.filter((x) => x.scope === 'block'))
          if (s.after.every((a) => runStages.some((r) => r.name === a)) && (!s.sequential || b === 0))
            await this.enqueue(client, run.id, s, block[0]!, block.at(-1)!);
      return;
    }
    const all = blocks(run.days ?? [], run.block_days);
    const b = all.findIndex((x) => x[0] === k.first);
    const candidates: [Stage, number][] = this.stages
      .filter((s) => s.after.includes(stage.name))
      .map((s) => [s, b] as [Stage, number]);
    if (stage.sequential && b + 1 < all.length) candidates.push([stage, b + 1]);
    for (const [s, bi] of candidates) {
      const block = all[bi]!;
      if ((await stageJobs(client, run.id, s.name, block[0])).length > 0) continue; // already enqueued
      const ready =
        (await this.ready(s, (x) => (x.scope === 'run' ? isComplete(x) : isComplete(x, block[0])))) &&
        (!s.sequential || bi === 0 || (await isComplete(s, all[bi - 1]![0])));
      if (ready) await this.enqueue(client, run.id, s, block[0]!, block.at(-1)!);
    }
  }

  private async ready(s: Stage, isComplete: (x: Stage) => Promise<boolean>): Promise<boolean> {
    for (const a of s.after) {
      const pre = this.stages.find((x) => x.name === a);
      if (pre && !(await isComplete(pre))) return false; // a disabled predecessor counts as done
    }
    return true;
  }

  /** The day contexts of a block, made once per run and date in this process. */
  private async dayContexts(run: RunRow, first: string, last: string): Promise<DayContext[]> {
    let shared = this.runs.get(run.id);
    if (!shared) {
      shared = (async () => {
        const model = await loadModel(this.db);
        return { model, calendar: await loadCalendar(this.pool, model.settings.calendarSymbol) };
      })();
      shared.catch(() => this.runs.delete(run.id));
      this.runs.set(run.id, shared);
    }
    const { calendar, model } = await shared;
    const dates = (run.days ?? []).filter((d) => d >= first && d <= last);
    return dates.map((date) => {
      const key = `${run.id}|${date}`;
      let ctx = this.days.get(key);
      if (!ctx) {
        ctx = dayContexts([date], calendar, model, this.config, run.force)[0]!;
        this.days.set(key, ctx);
      }
      return ctx;
    });
  }

  /** The scheduled daily run: today's date in the schedule's time zone. */
  private async scheduledRun(): Promise<void> {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: this.config.scheduleTimeZone }).format(
      new Date(),
    );
    try {
      const id = await this.createRun({ from: today, to: today, kind: 'schedule' });
      this.log(`schedule: run ${id} for ${today} enqueued`);
    } catch (e) {
      this.log(`schedule: no run for ${today}: ${message(e)}`);
    }
  }
}
