import type { DayPanel } from './day-panel.ts';
import type { RiskSettings } from './report.ts';

/**
 * What-if's day panels in memory: the panel of every symbol (returns, betas, specific vols, scenario
 * closes) of the latest dates asked for, so that a request reads no returns from the database.
 *
 * Bounded: at most `maxDates` panels (the oldest loaded is let go first; ~20 MB a date for 10,000
 * symbols). Kept current by the database, not a timer: `drop` is called with the dates of
 * `fu_metrics_changed` (the served dates' LISTEN connection, migration 0025), which a pipeline run
 * completing a date sends. A change to date X drops every panel of X or later, whose 250-day window
 * may hold X. While `live()` is false (the LISTEN connection is down) nothing is held or served
 * from memory: each request reads its own panel.
 *
 * A panel is replaced, never modified; a load that a drop overtook answers its request but is not kept.
 */
export class DayPanelCache {
  private readonly panels = new Map<string, { date: string; panel: Promise<DayPanel | null> }>();
  private generation = 0;
  /** the generation at which each date (or `*`) was last dropped */
  private readonly droppedAt = new Map<string, number>();

  constructor(
    private readonly maxDates: number,
    private readonly live: () => boolean,
  ) {}

  /** Dates held (loaded or loading), oldest first. */
  get held(): string[] {
    return [...this.panels.values()].map((p) => p.date).sort();
  }

  /** The panel of `date` under `settings`, from memory or from `load` (then kept while live). */
  get(date: string, settings: RiskSettings, load: () => Promise<DayPanel | null>): Promise<DayPanel | null> {
    if (!this.live() || this.maxDates <= 0) return load();
    const key = `${date}|${settings.halfLife}|${settings.benchmark}|${JSON.stringify(settings.scenarios ?? null)}`;
    const held = this.panels.get(key);
    if (held) {
      // most recently used last: the oldest use is let go first
      this.panels.delete(key);
      this.panels.set(key, held);
      return held.panel;
    }
    const generation = this.generation;
    const panel = load();
    const entry = { date, panel };
    this.panels.set(key, entry);
    while (this.panels.size > this.maxDates) this.panels.delete(this.panels.keys().next().value!);
    const forget = () => {
      if (this.panels.get(key) === entry) this.panels.delete(key);
    };
    panel.then((p) => {
      if (p === null || this.droppedSince(date, generation)) forget();
    }, forget);
    return panel;
  }

  /** Drops the panels of the named dates and later ones (comma-separated ISO dates, or `*`: all). */
  drop(payload: string): void {
    const generation = ++this.generation;
    const dates = payload.split(',').filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d));
    const all = payload === '*' || dates.length === 0;
    const from = all ? '' : dates.reduce((a, b) => (a < b ? a : b));
    this.droppedAt.set(all ? '*' : from, generation);
    for (const [key, { date }] of this.panels) if (date >= from) this.panels.delete(key);
  }

  private droppedSince(date: string, generation: number): boolean {
    for (const [d, g] of this.droppedAt) if (g > generation && (d === '*' || d <= date)) return true;
    return false;
  }
}
