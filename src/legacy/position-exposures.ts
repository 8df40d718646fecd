import type pg from 'pg';
import { copyBinary, type BinaryColumn } from '../db/copy.ts';
import { withTransaction } from '../db/transaction.ts';
import { legacyDelta } from './option-delta.ts';
import { capped, plainOls, plainRealizedVol, plainRidge, type LegacyFlag } from './regression.ts';

/**
 * The legacy, per-position path, kept for the dual-write transition as the reference the universe
 * engine is compared with (`compare`). It does what the old system did: for every position held at
 * the close of D (METHODOLOGY.md §9), one price query for that position's own symbol (an option's
 * underlying) and the proxies, then that symbol's regressions on their own (§2–§5), and for an
 * option its own Black–Scholes delta (§7). It writes `position_factor_exposures`: the beta and
 * exposure_value = beta × delta (× 1 for a stock).
 *
 * Deliberately slow and deliberately separate: it imports nothing from `src/factors/`, `src/math/`
 * or `src/portfolios/`, so a mistake in the engine cannot be repeated here unnoticed.
 */

/** The old system's constants (METHODOLOGY.md §2, §5, §7). */
export interface LegacySettings {
  calendarSymbol: string;
  ridgeAlpha: number;
  betaCap: number;
  fullHistoryRatio: number;
  riskFreeRate: number;
  fallbackVol: number;
}

export const LEGACY_SETTINGS: LegacySettings = {
  calendarSymbol: 'SPY',
  ridgeAlpha: 1.0,
  betaCap: 5,
  fullHistoryRatio: 0.9,
  riskFreeRate: 0.045,
  fallbackVol: 0.25,
};

interface FactorRow {
  id: number;
  method: 'ridge_regression' | 'spread_regression' | 'ols_market';
  long_proxy: string;
  short_proxy: string | null;
  window_days: number;
  min_observations: number;
}

interface HeldRow {
  id: number;
  portfolio_id: number;
  symbol: string;
  position_type: string;
  underlying_symbol: string | null;
  strike_price: number | null;
  expiration_date: string | null;
  implied_volatility: number | null;
}

export interface LegacyRow {
  positionId: number;
  portfolioId: number;
  symbol: string;
  betaSymbol: string;
  factorId: number;
  beta: number;
  delta: number | null;
  rSquared: number | null;
  observations: number;
  qualityFlag: LegacyFlag;
}

const DAY_MS = 86_400_000;
const dayDiff = (later: string, earlier: string): number =>
  (Date.parse(`${later}T00:00:00Z`) - Date.parse(`${earlier}T00:00:00Z`)) / DAY_MS;

/** One symbol's history as the old system read it: the calendar's days and each symbol's returns. */
export interface SymbolHistory {
  /** Trading days (the calendar symbol's dates), oldest first, ending on D. */
  days: string[];
  /** Calendar days from each of `days` to D (D − d), for the windows' `D − d < window` test. */
  age: number[];
  /** Daily return of each symbol on each day (C_t / C_prev − 1), NaN where either close is missing. */
  returns: Map<string, number[]>;
  /** Close of each symbol on D, if any. */
  closeOnD: Map<string, number>;
}

/**
 * The closes a block of days needs, read once: the calendar, the proxies and every held symbol, from
 * the first day's window start (the calendar's last date at least `windowDays` before it) to the last
 * day. Each day's history is then cut from it exactly as the old per-position query would have read it.
 */
interface BlockCloses {
  /** The calendar symbol's dates, oldest first. */
  calendar: string[];
  /** Each calendar date as a day number (days since 1970-01-01). */
  dayNumber: number[];
  /** Each symbol's close on each calendar date (NaN where it has none); closes off the calendar are not kept. */
  closes: Map<string, Float64Array>;
}

async function loadBlockCloses(
  pool: pg.Pool,
  first: string,
  last: string,
  symbols: readonly string[],
  calendar: string,
  windowDays: number,
): Promise<BlockCloses> {
  const { rows } = await pool.query<{ symbol: string; date: string; close: number }>(
    `SELECT symbol, date::text AS date, close FROM market_data_cache
      WHERE symbol = ANY($1) AND date <= $2
        AND date >= COALESCE((SELECT max(date) FROM market_data_cache WHERE symbol = $3 AND date <= $4::date - $5::int), '-infinity')
      ORDER BY date`,
    [[...new Set([calendar, ...symbols])], last, calendar, first, windowDays],
  );
  const days = rows.filter((r) => r.symbol === calendar).map((r) => r.date);
  const slot = new Map(days.map((d, t) => [d, t]));
  // The old system looked each close up by date; an array per symbol on the calendar's positions
  // reads the same closes without a string lookup per symbol, day and window.
  const closes = new Map<string, Float64Array>();
  for (const r of rows) {
    const t = slot.get(r.date);
    if (t === undefined) continue;
    let c = closes.get(r.symbol);
    if (!c) closes.set(r.symbol, (c = new Float64Array(days.length).fill(NaN)));
    c[t] = r.close;
  }
  return { calendar: days, dayNumber: days.map((d) => Date.parse(`${d}T00:00:00Z`) / DAY_MS), closes };
}

/** ISO date `days` calendar days before `iso`. */
const daysBefore = (iso: string, days: number): string =>
  new Date(Date.parse(`${iso}T00:00:00Z`) - days * DAY_MS).toISOString().slice(0, 10);

/**
 * Day D's history of `symbols`, as the old per-position query read it: the calendar's dates from its
 * last date on or before D − windowDays (its first date when there is none) through D; each return
 * C_t / C_prev − 1 over consecutive calendar dates (the first is NaN: its previous close is not read).
 */
function historyOn(
  block: BlockCloses,
  date: string,
  symbols: readonly string[],
  windowDays: number,
): SymbolHistory {
  const cal = block.calendar;
  const end = cal.lastIndexOf(date);
  const cutoff = daysBefore(date, windowDays);
  let start = 0;
  for (let i = end; i >= 0; i--)
    if (cal[i]! <= cutoff) {
      start = i;
      break;
    }
  const days = end < 0 ? [] : cal.slice(start, end + 1);
  const age = days.map((_, t) => block.dayNumber[end]! - block.dayNumber[start + t]!);
  const returns = new Map<string, number[]>();
  const closeOnD = new Map<string, number>();
  for (const s of symbols) {
    const c = block.closes.get(s);
    const r = new Array<number>(days.length).fill(NaN);
    if (c) for (let t = 1; t < days.length; t++) r[t] = c[start + t]! / c[start + t - 1]! - 1;
    returns.set(s, r);
    if (c && end >= 0 && !Number.isNaN(c[end]!)) closeOnD.set(s, c[end]!);
  }
  return { days, age, returns, closeOnD };
}

/**
 * Every beta of one symbol on D from its history (§2–§5); a factor without enough observations,
 * with a flat regressor or a non-finite fit has no row, as in the old system.
 */
export function symbolBetas(
  h: SymbolHistory,
  symbol: string,
  factors: readonly FactorRow[],
  s: LegacySettings,
): Omit<LegacyRow, 'positionId' | 'portfolioId' | 'symbol' | 'betaSymbol' | 'delta'>[] {
  const inWindow = (w: number) => h.age.map((a) => a < w);
  const y = h.returns.get(symbol)!;
  const out: Omit<LegacyRow, 'positionId' | 'portfolioId' | 'symbol' | 'betaSymbol' | 'delta'>[] = [];
  const ok = (v: number) => !Number.isNaN(v);
  const ridge = factors.filter((f) => f.method === 'ridge_regression');
  if (ridge.length > 0) {
    const w = ridge[0]!;
    const window = inWindow(w.window_days);
    const proxies = ridge.map((f) => h.returns.get(f.long_proxy)!);
    const rows: number[][] = [];
    const ys: number[] = [];
    h.days.forEach((_, t) => {
      if (window[t] && ok(y[t]!) && proxies.every((p) => ok(p[t]!))) {
        rows.push(proxies.map((p) => p[t]!));
        ys.push(y[t]!);
      }
    });
    const fit = ys.length >= w.min_observations ? plainRidge(rows, ys, s.ridgeAlpha) : null;
    if (fit && fit.betas.every(Number.isFinite) && (fit.r2 === null || (fit.r2 >= 0 && fit.r2 <= 1))) {
      const days = window.filter(Boolean).length;
      ridge.forEach((f, j) => {
        const c = capped(fit.betas[j]!, ys.length, days, s.betaCap, s.fullHistoryRatio);
        out.push({
          factorId: f.id,
          beta: c.beta,
          rSquared: fit.r2,
          observations: ys.length,
          qualityFlag: c.flag,
        });
      });
    }
  }
  for (const f of factors) {
    if (f.method === 'ridge_regression') continue;
    const window = inWindow(f.window_days);
    const long = h.returns.get(f.long_proxy)!;
    const short = f.short_proxy === null ? undefined : h.returns.get(f.short_proxy)!;
    const xs: number[] = [];
    const ys: number[] = [];
    h.days.forEach((_, t) => {
      const x = short ? long[t]! - short[t]! : long[t]!;
      if (window[t] && ok(x) && ok(y[t]!)) {
        xs.push(x);
        ys.push(y[t]!);
      }
    });
    if (xs.length < f.min_observations) continue;
    const fit = plainOls(xs, ys);
    if (!fit || !Number.isFinite(fit.beta) || (fit.r2 !== null && !(fit.r2 >= 0 && fit.r2 <= 1))) continue;
    const c = capped(fit.beta, xs.length, window.filter(Boolean).length, s.betaCap, s.fullHistoryRatio);
    out.push({
      factorId: f.id,
      beta: c.beta,
      rSquared: fit.r2,
      observations: xs.length,
      qualityFlag: c.flag,
    });
  }
  return out;
}

/** The legacy rows of a block of days, computed; `saveLegacyBlock` writes them. */
export interface LegacyBlock {
  /** The trading days computed (each requested date's last trading day on or before it). */
  dates: string[];
  /** Positions held, summed over the days. */
  positions: number;
  rows: (LegacyRow & { date: string })[];
}

/**
 * The legacy rows of each of `requestedDates` (each the last trading day on or before it). The closes
 * of every held symbol and proxy are read once for the block; then, as in the old system, every
 * position held on a day gets its own regressions on that day's history (§2–§5) and an option its own
 * delta (§7). The reference stays independent: same formulas, only the reads are batched.
 */
export async function computeLegacyBlock(
  pool: pg.Pool,
  requestedDates: readonly string[],
  s: LegacySettings = LEGACY_SETTINGS,
): Promise<LegacyBlock> {
  const cal = await pool.query<{ d: string | null }>(
    `SELECT (SELECT max(date) FROM market_data_cache WHERE symbol = $1 AND date <= r)::text AS d
       FROM unnest($2::date[]) AS r`,
    [s.calendarSymbol, requestedDates],
  );
  const dates = [...new Set(cal.rows.flatMap((r) => (r.d ? [r.d] : [])))].sort();
  const out: LegacyBlock = { dates, positions: 0, rows: [] };
  if (dates.length === 0) return out;
  const factors = (
    await pool.query<FactorRow>(
      `SELECT id, method, long_proxy, short_proxy, window_days, min_observations FROM factor_definitions
        WHERE is_active ORDER BY display_order`,
    )
  ).rows;
  const proxies = [
    ...new Set(factors.flatMap((f) => (f.short_proxy ? [f.long_proxy, f.short_proxy] : [f.long_proxy]))),
  ];
  const longest = Math.max(...factors.map((f) => f.window_days));
  const volWindow = factors.find((f) => f.method === 'ridge_regression')?.window_days ?? 365;
  // Held at the close of each D (§9): entered, not exited, and an option not expired.
  const heldOn = new Map<string, HeldRow[]>();
  for (const date of dates)
    heldOn.set(
      date,
      (
        await pool.query<HeldRow>(
          `SELECT id, portfolio_id, symbol, position_type, underlying_symbol, strike_price,
                  expiration_date::text AS expiration_date, implied_volatility
             FROM positions
            WHERE (entry_date IS NULL OR entry_date <= $1) AND (exit_date IS NULL OR exit_date > $1)
              AND (position_type IN ('LONG', 'SHORT') OR expiration_date > $1)
            ORDER BY id`,
          [date],
        )
      ).rows,
    );
  const betaSymbolOf = (p: HeldRow) =>
    p.position_type !== 'LONG' && p.position_type !== 'SHORT' ? p.underlying_symbol! : p.symbol;
  const held = [...new Set([...heldOn.values()].flat().map(betaSymbolOf))];
  const block = await loadBlockCloses(
    pool,
    dates[0]!,
    dates.at(-1)!,
    [...held, ...proxies],
    s.calendarSymbol,
    longest,
  );

  for (const date of dates) {
    const positions = heldOn.get(date)!;
    out.positions += positions.length;
    const h = historyOn(block, date, [...new Set([...positions.map(betaSymbolOf), ...proxies])], longest);
    if (h.days.at(-1) !== date) continue;
    // each held symbol's regressions once a day; every position holding it reads them (the old system
    // ran them per position, with the same inputs and so the same numbers)
    const betasOf = new Map<string, ReturnType<typeof symbolBetas>>();
    for (const p of positions) {
      const betaSymbol = betaSymbolOf(p);
      const option = p.position_type !== 'LONG' && p.position_type !== 'SHORT';
      let delta: number | null = null;
      if (option) {
        const spot = h.closeOnD.get(betaSymbol);
        if (spot === undefined) continue; // no underlying price on D: no delta, no row
        const y = h.returns.get(betaSymbol)!;
        const windowReturns = y.filter((r, t) => h.age[t]! < volWindow && !Number.isNaN(r));
        const vol = p.implied_volatility ?? plainRealizedVol(windowReturns) ?? s.fallbackVol;
        const call = p.position_type === 'LC' || p.position_type === 'SC';
        const years = dayDiff(p.expiration_date!, date) / 365;
        delta = legacyDelta(call, spot, p.strike_price!, years, s.riskFreeRate, vol);
      }
      let betas = betasOf.get(betaSymbol);
      if (!betas) betasOf.set(betaSymbol, (betas = symbolBetas(h, betaSymbol, factors, s)));
      for (const b of betas)
        out.rows.push({
          factorId: b.factorId,
          beta: b.beta,
          rSquared: b.rSquared,
          observations: b.observations,
          qualityFlag: b.qualityFlag,
          positionId: p.id,
          portfolioId: p.portfolio_id,
          symbol: p.symbol,
          betaSymbol,
          delta,
          date,
        });
    }
  }
  return out;
}

const LEGACY_COLUMNS: readonly BinaryColumn[] = [
  { name: 'position_id', type: 'int4' },
  { name: 'factor_id', type: 'int2' },
  { name: 'calculation_date', type: 'date' },
  { name: 'portfolio_id', type: 'int4' },
  { name: 'symbol', type: 'text' },
  { name: 'beta_symbol', type: 'text' },
  { name: 'exposure_value', type: 'float8' },
  { name: 'beta', type: 'float8' },
  { name: 'delta', type: 'float8' },
  { name: 'r_squared', type: 'float8' },
  { name: 'observations', type: 'int4' },
  { name: 'quality_flag', type: 'text' },
  { name: 'is_option', type: 'bool' },
];

/** Replaces the block's dates' legacy rows in the caller's transaction: one delete, one binary COPY. */
export async function saveLegacyBlock(client: pg.ClientBase, block: LegacyBlock): Promise<void> {
  if (block.dates.length === 0) return;
  await client.query('DELETE FROM position_factor_exposures WHERE calculation_date = ANY($1::date[])', [
    block.dates,
  ]);
  await copyBinary(
    client,
    'position_factor_exposures',
    LEGACY_COLUMNS,
    block.rows.map((x) => [
      x.positionId,
      x.factorId,
      x.date,
      x.portfolioId,
      x.symbol,
      x.betaSymbol,
      x.beta * (x.delta ?? 1),
      x.beta,
      x.delta,
      x.rSquared,
      x.observations,
      x.qualityFlag,
      x.delta !== null,
    ]),
  );
}

/**
 * Writes the legacy rows of one date (the last trading day on or before `requestedDate`) in one
 * transaction, replacing that date's rows.
 */
export async function writeLegacyExposures(
  pool: pg.Pool,
  requestedDate: string,
  s: LegacySettings = LEGACY_SETTINGS,
): Promise<{ date: string | null; positions: number; rows: number }> {
  const block = await computeLegacyBlock(pool, [requestedDate], s);
  if (block.dates.length === 0) return { date: null, positions: 0, rows: 0 };
  await withTransaction(pool, (client) => saveLegacyBlock(client, block));
  return { date: block.dates[0]!, positions: block.positions, rows: block.rows.length };
}
