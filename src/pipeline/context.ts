import type pg from 'pg';
import type { Config } from '../config.ts';
import type { FactorModel } from '../factors/model.ts';

/**
 * The trading calendar: the dates on which the calendar symbol (METHODOLOGY.md 1: SPY) has a close,
 * loaded once per run. `onOrBefore('2024-12-28')` is the Friday 2024-12-27.
 */
export class Calendar {
  private readonly index: Map<string, number>;

  constructor(readonly days: readonly string[]) {
    this.index = new Map(days.map((d, i) => [d, i]));
  }

  /** The trading day before `date` (a trading day), or undefined for the first one. */
  prev(date: string): string | undefined {
    const i = this.index.get(date);
    if (i === undefined) throw new Error(`${date} is not a trading day of the calendar`);
    return this.days[i - 1];
  }

  /** The last trading day on or before `date`. */
  onOrBefore(date: string): string | undefined {
    let lo = 0;
    let hi = this.days.length; // first index with days[i] > date
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.days[mid]! <= date) lo = mid + 1;
      else hi = mid;
    }
    return this.days[lo - 1];
  }

  /** The trading days of [from, to]. */
  between(from: string, to: string): string[] {
    return this.days.filter((d) => d >= from && d <= to);
  }
}

export async function loadCalendar(q: pg.Pool | pg.ClientBase, calendarSymbol: string): Promise<Calendar> {
  const { rows } = await q.query<{ d: string }>(
    'SELECT date::text AS d FROM market_data_cache WHERE symbol = $1 ORDER BY date',
    [calendarSymbol],
  );
  return new Calendar(rows.map((r) => r.d));
}

/**
 * Everything a stage needs to know about the day it computes, made once per date and handed to every
 * stage: no stage resolves a date or loads the model itself.
 */
export interface DayContext {
  /** The trading day computed. */
  date: string;
  /** The trading day before it; undefined on the calendar's first day. */
  prevDate: string | undefined;
  calendar: Calendar;
  model: FactorModel;
  config: Config;
  /** Recompute what is already stored for the date. */
  force: boolean;
}

export function dayContexts(
  days: readonly string[],
  calendar: Calendar,
  model: FactorModel,
  config: Config,
  force: boolean,
): DayContext[] {
  return days.map((date) => ({ date, prevDate: calendar.prev(date), calendar, model, config, force }));
}

/**
 * The trading days a run covers: every trading day of [from, to]; for a one-date run (from = to) on a
 * day that is not a trading day, the last trading day before it (METHODOLOGY.md 1).
 */
export function runDays(calendar: Calendar, from: string, to: string): string[] {
  if (from === to) {
    const d = calendar.onOrBefore(to);
    return d ? [d] : [];
  }
  return calendar.between(from, to);
}

/** Consecutive days in blocks of `size`: a block's jobs load their inputs once for all its days. */
export function blocks(days: readonly string[], size: number): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < days.length; i += size) out.push(days.slice(i, i + size));
  return out;
}
