import type pg from 'pg';
import type { FactorModel } from '../factors/model.ts';
import { loadCloses, type ClosesMatrix } from '../market/closes.ts';
import { HISTORICAL_DAYS, loadDayPanel, type DayPanel, type PanelReads } from './day-panel.ts';
import type { runRiskModel } from './model.ts';
import type { RiskSettings } from './report.ts';
import {
  historyStart,
  loadClosesOn,
  loadReturnHistory,
  returnsEndingAt,
  type ReturnHistory,
} from './store.ts';

/**
 * The day panels of a block of consecutive trading days (the portfolio stage of a backfill): the
 * closes of the block's whole return window — from the first day's 250-day window to the last day —
 * and the closes on the scenario windows' dates are read once for the block instead of once per
 * day; each day's return history is then cut from that matrix (`returnsEndingAt`), the same returns
 * as the day's own read. The risk model, betas and specific vols stay a day's own small reads.
 *
 * Symbols are read as days ask for them: the first day's, then only those a later day adds (a
 * position entered within the block), so a day never sees fewer symbols than it asked for. A day
 * sees more (the block's other symbols), which changes no number: every use looks a symbol up by
 * name. A date outside the block, or a request for every symbol, is read from the database as before.
 */
export class BlockPanels implements PanelReads {
  private closes: ClosesMatrix | null = null;
  /** Start of the block's read (`historyStart` of its first day). */
  private from: string | null = null;
  /** Symbols whose closes were read (those with no closes in the window too). */
  private readonly held = new Set<string>();
  private readonly scenarioCloses = new Map<string, number>();
  private scenarioDates: readonly string[] | null = null;
  private readonly scenarioHeld = new Set<string>();
  /** Reads run one after another, so that two days' requests never read a symbol twice. */
  private pending: Promise<unknown> = Promise.resolve();
  /** Reads of the block's closes so far (one, unless a later day added symbols). */
  reads = 0;

  /**
   * `days`: the block's trading days, in order; `settings`: the risk settings of the run; `window`:
   * the returns a day's history holds (other lengths are read per day).
   */
  constructor(
    private readonly db: Parameters<typeof runRiskModel>[0],
    private readonly pool: pg.Pool,
    private readonly model: FactorModel,
    private readonly days: readonly string[],
    readonly settings: RiskSettings,
    private readonly window = HISTORICAL_DAYS,
  ) {
    if (days.length === 0) throw new Error('a block has at least one day');
  }

  /** The panel of `date` for `symbols` (with the proxies and benchmark), as `loadDayPanel` gives it. */
  panelFor(date: string, symbols: readonly string[]): Promise<DayPanel | null> {
    return loadDayPanel(this.db, this.pool, this.model, date, this.settings, symbols, this);
  }

  async history(
    calendarSymbol: string,
    date: string,
    days: number,
    symbols: readonly string[] | null,
  ): Promise<ReturnHistory> {
    const inBlock = date >= this.days[0]! && date <= this.days.at(-1)!;
    if (symbols === null || !inBlock || calendarSymbol !== this.calendar || days !== this.window)
      return loadReturnHistory(this.pool, calendarSymbol, date, days, symbols);
    const m = await this.hold(symbols);
    const end = m.dates.indexOf(date);
    // not a trading day of the calendar: the day's own read answers (as it would have)
    if (end < 0) return loadReturnHistory(this.pool, calendarSymbol, date, days, symbols);
    return returnsEndingAt(m, end, days);
  }

  async closesOn(symbols: readonly string[] | null, dates: readonly string[]): Promise<Map<string, number>> {
    this.scenarioDates ??= dates;
    const same =
      this.scenarioDates.length === dates.length && this.scenarioDates.every((d, i) => d === dates[i]);
    if (symbols === null || !same) return loadClosesOn(this.pool, symbols, dates);
    await this.serially(async () => {
      const missing = symbols.filter((s) => !this.scenarioHeld.has(s));
      if (missing.length === 0) return;
      for (const [k, v] of await loadClosesOn(this.pool, missing, dates)) this.scenarioCloses.set(k, v);
      for (const s of missing) this.scenarioHeld.add(s);
    });
    return this.scenarioCloses;
  }

  private get calendar(): string {
    return this.model.settings.calendarSymbol;
  }

  /** The block's matrix of closes, holding at least `symbols` (read for those it lacks). */
  private hold(symbols: readonly string[]): Promise<ClosesMatrix> {
    return this.serially(async () => {
      const missing = symbols.filter((s) => !this.held.has(s));
      if (missing.length > 0 || !this.closes) {
        this.from ??= await historyStart(this.pool, this.calendar, this.days[0]!, this.window);
        const read = await loadCloses(this.pool, this.calendar, this.from, this.days.at(-1)!, missing);
        this.reads++;
        this.closes = this.closes ? appendRows(this.closes, read) : read;
        for (const s of [this.calendar, ...missing]) this.held.add(s);
      }
      return this.closes;
    });
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.pending.then(task);
    this.pending = run.catch(() => undefined);
    return run;
  }
}

/** `a` with the rows of `b`'s symbols that it lacks (the same trading days: one block's reads). */
function appendRows(a: ClosesMatrix, b: ClosesMatrix): ClosesMatrix {
  if (a.dates.length !== b.dates.length || a.dates.some((d, i) => d !== b.dates[i]))
    throw new Error('the trading calendar changed between two reads of one block');
  const T = a.dates.length;
  const have = new Set(a.symbols);
  const added = b.symbols.flatMap((s, i) => (have.has(s) ? [] : [i]));
  const closes = new Float64Array((a.symbols.length + added.length) * T);
  closes.set(a.closes);
  added.forEach((i, k) => closes.set(b.closes.subarray(i * T, (i + 1) * T), (a.symbols.length + k) * T));
  return { dates: a.dates, symbols: [...a.symbols, ...added.map((i) => b.symbols[i]!)], closes };
}
