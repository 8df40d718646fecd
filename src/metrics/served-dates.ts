import pg from 'pg';
import { dashboardJson, type DashboardPage, type DashboardQuery } from './dashboard.ts';
import {
  buildServedDay,
  pageJsonOfDay,
  pageOfDay,
  resolveDate,
  SERVED_DAY_SQL,
  servableFromMemory,
  type ServedDay,
} from './served-day.ts';

/** The channel migration 0025's triggers notify, with the changed dates (or `*`). */
export const METRICS_CHANNEL = 'fu_metrics_changed';

/** Every computed date, in order: a loose index scan over (metric_date, sector), one probe a date. */
const DATES_SQL = `WITH RECURSIVE d(day) AS (
    SELECT min(metric_date) FROM symbol_daily_metrics
    UNION ALL
    SELECT (SELECT min(metric_date) FROM symbol_daily_metrics WHERE metric_date > d.day) FROM d WHERE d.day IS NOT NULL)
  SELECT day::text FROM d WHERE day IS NOT NULL`;

export interface ServedDatesOptions {
  /** how many of the latest computed dates are held (older dates are read with SQL) */
  maxDates: number;
  /** opens the dedicated LISTEN connection (never a pooled one: it is held for the process's life) */
  listener: () => pg.Client;
  /** wait before reconnecting a lost LISTEN connection (ms) */
  retryMs?: number;
  log?: (message: string) => void;
}

/**
 * The dates the API serves from memory: the latest `maxDates` computed dates of
 * `symbol_daily_metrics`, each a `ServedDay` loaded on first use.
 *
 * Freshness comes from the database, not a timer: a dedicated connection LISTENs on
 * `fu_metrics_changed`, which every committed write of the table notifies (migration 0025) with the
 * dates it changed. A message drops those dates and the list of dates; the next request reloads them.
 * While that connection is down nothing is answered from memory (the caller reads SQL), and on
 * reconnecting everything held is dropped, since messages may have been missed in between.
 *
 * A day is replaced, never modified: a request holds the `ServedDay` it started with, so an answer
 * is wholly the old day or wholly the new one. A load that a message overtook still answers the
 * request that started it (one statement: a consistent day) but is not kept.
 */
export class ServedDates {
  private dates: Promise<string[]> | null = null;
  private readonly days = new Map<string, Promise<ServedDay>>();
  private generation = 0;
  /** the generation at which each date (or `*`: all) was last dropped */
  private readonly droppedAt = new Map<string, number>();
  private client: pg.Client | null = null;
  private listening = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly dropListeners: ((payload: string) => void)[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: ServedDatesOptions,
  ) {}

  /** Connects the listener; resolves once it listens (or failed, then it retries in the background). */
  async start(): Promise<void> {
    if (this.stopped || this.client) return;
    const client = this.options.listener();
    this.client = client;
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = null;
      this.listening = false;
      this.drop('*');
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.options.log?.(`served dates: LISTEN connection lost (${why}); reading SQL until it is back`);
      this.retry = setTimeout(() => void this.start(), this.options.retryMs ?? 1000);
      this.retry.unref();
    };
    client.on('error', (e) => lost(e.message));
    client.on('end', () => lost('ended'));
    client.on('notification', (m) => {
      if (m.channel === METRICS_CHANNEL) this.drop(m.payload ?? '*');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${METRICS_CHANNEL}`);
      if (this.client !== client) return;
      // whatever was held may have changed while nobody listened
      this.drop('*');
      this.listening = true;
    } catch (e) {
      lost((e as Error).message);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    this.listening = false;
    this.drop('*');
    await client?.end().catch(() => undefined);
  }

  /** True while the listener is connected (memory answers are current). */
  get live(): boolean {
    return this.listening;
  }

  /** Dates held (loaded or loading), newest last. */
  get held(): string[] {
    return [...this.days.keys()].sort();
  }

  /** Calls `listener` with every drop's payload (other memory kept by the same dates, e.g. what-if's panels). */
  onDrop(listener: (payload: string) => void): void {
    this.dropListeners.push(listener);
  }

  /** Drops the named dates (comma-separated, or `*` for all) and the list of dates. */
  drop(payload: string): void {
    for (const l of this.dropListeners) l(payload);
    const generation = ++this.generation;
    this.dates = null;
    if (payload === '*') {
      this.days.clear();
      this.droppedAt.clear();
      this.droppedAt.set('*', generation);
    } else
      for (const d of payload.split(',')) {
        this.days.delete(d);
        this.droppedAt.set(d, generation);
      }
  }

  /**
   * The dashboard page of `query` from memory, or null when memory cannot answer it: the listener
   * is down, `q` is not ASCII, or the date read is not one of the latest `maxDates`.
   */
  async page(query: DashboardQuery): Promise<DashboardPage | null> {
    const found = await this.find(query);
    if (found === null || 'page' in found) return found?.page ?? null;
    return pageOfDay(found.day, query);
  }

  /** The same answer as `page`, as the route's JSON (`dashboardJson` of it) in UTF-8, rows' bytes reused. */
  async json(query: DashboardQuery): Promise<Buffer | null> {
    const found = await this.find(query);
    if (found === null || 'page' in found) return found ? Buffer.from(dashboardJson(found.page)) : null;
    return pageJsonOfDay(found.day, query);
  }

  /** The served day a query reads, an answer without one (no date), or null (memory declines). */
  private async find(query: DashboardQuery): Promise<{ day: ServedDay } | { page: DashboardPage } | null> {
    if (!this.listening || !servableFromMemory(query)) return null;
    const dates = await this.dateList();
    const { metricsDate, nearestMetricsDate } = resolveDate(dates, query.date);
    if (metricsDate === null) {
      return { page: { rows: [], columns: query.columns, totalCount: 0, metricsDate, nearestMetricsDate } };
    }
    if (dates.indexOf(metricsDate) < dates.length - this.options.maxDates) return null;
    return { day: await this.day(metricsDate) };
  }

  private dateList(): Promise<string[]> {
    if (this.dates) return this.dates;
    const generation = this.generation;
    const loading = this.pool.query<{ day: string }>(DATES_SQL).then((r) => r.rows.map((row) => row.day));
    this.dates = loading;
    loading.then(
      (dates) => {
        if (this.generation !== generation) {
          if (this.dates === loading) this.dates = null;
          return;
        }
        // days that are no longer among the latest are let go
        const kept = new Set(dates.slice(-this.options.maxDates));
        for (const d of this.days.keys()) if (!kept.has(d)) this.days.delete(d);
      },
      () => {
        if (this.dates === loading) this.dates = null;
      },
    );
    return loading;
  }

  private day(date: string): Promise<ServedDay> {
    const held = this.days.get(date);
    if (held) return held;
    const generation = this.generation;
    const loading = this.pool
      .query<unknown[]>({ text: SERVED_DAY_SQL, values: [date], rowMode: 'array' })
      .then((r) => buildServedDay(date, r.rows));
    this.days.set(date, loading);
    const forget = () => {
      if (this.days.get(date) === loading) this.days.delete(date);
    };
    loading.then(() => {
      const dropped = Math.max(this.droppedAt.get(date) ?? 0, this.droppedAt.get('*') ?? 0);
      if (dropped > generation) forget();
    }, forget);
    return loading;
  }
}
