import type { PositionType } from '../db/schema.ts';

export const POSITION_TYPES: readonly PositionType[] = ['LONG', 'SHORT', 'LC', 'LP', 'SC', 'SP'];
const OPTION_TYPES = new Set<PositionType>(['LC', 'LP', 'SC', 'SP']);
const LONG_TYPES = new Set<PositionType>(['LONG', 'LC', 'LP']);

export const isPositionType = (s: string): s is PositionType =>
  (POSITION_TYPES as readonly string[]).includes(s);
export const isOption = (t: PositionType): boolean => OPTION_TYPES.has(t);
export const isCall = (t: PositionType): boolean => t === 'LC' || t === 'SC';

/** A position as stored in `positions` (quantity signed: negative for SHORT, SC, SP). */
export interface Position {
  symbol: string;
  positionType: PositionType;
  quantity: number;
  entryPrice: number | null;
  entryDate: string | null;
  exitDate: string | null;
  underlyingSymbol: string | null;
  strikePrice: number | null;
  expirationDate: string | null;
  multiplier: number;
  impliedVolatility: number | null;
}

export interface PositionProblem {
  column: string;
  message: string;
}

/**
 * OCC-style option symbol, used when an option position comes without one.
 * Example: AAPL call, strike 200, expiring 2025-01-17 → `AAPL250117C00200000`.
 */
export function optionSymbol(underlying: string, expiration: string, call: boolean, strike: number): string {
  const yymmdd = expiration.slice(2).replaceAll('-', '');
  return `${underlying}${yymmdd}${call ? 'C' : 'P'}${String(Math.round(strike * 1000)).padStart(8, '0')}`;
}

/** The OCC symbol of an option given without a symbol, when its terms are complete; else null. */
export function impliedOptionSymbol(p: Position): string | null {
  return isOption(p.positionType) && p.underlyingSymbol && p.expirationDate && p.strikePrice
    ? optionSymbol(p.underlyingSymbol, p.expirationDate, isCall(p.positionType), p.strikePrice)
    : null;
}

/** An option expired on or before `date`: it contributes nothing from that day on. */
export const isExpired = (p: Position, date: string): boolean =>
  isOption(p.positionType) && p.expirationDate! <= date;

/**
 * Held at the close of `date` (METHODOLOGY.md §9): entered on or before it (or no entry date), not
 * exited on or before it, and for an option not expired on or before it. What counts for market
 * value, weights, exposures, Greeks, risk and stress on that date.
 * Example: entry 2025-06-02, exit 2025-06-10: held on 06-02 … 06-09, not on 06-10 (it is sold at
 * that day's close, which still books its last move).
 */
export const isHeld = (p: Position, date: string): boolean =>
  (p.entryDate === null || p.entryDate <= date) &&
  (p.exitDate === null || date < p.exitDate) &&
  !isExpired(p, date);

/**
 * Entered within (prev, D] (METHODOLOGY.md §9, the entry day): the day books no move from before
 * the entry. An entry on a non-trading day counts on the next trading day. Without a previous
 * trading day, only an entry on D itself.
 */
export const entersOn = (p: Position, date: string, prevDate: string | undefined): boolean =>
  p.entryDate !== null &&
  p.entryDate <= date &&
  (prevDate === undefined ? p.entryDate === date : p.entryDate > prevDate);

/** Default contract multiplier: 1 for stocks and ETFs, 100 for listed options. */
export const defaultMultiplier = (t: PositionType): number => (isOption(t) ? 100 : 1);

/**
 * The rules a position must satisfy beyond field syntax (types, signs, option terms, dates).
 * Returns every broken rule, naming its column.
 */
export function positionProblems(p: Position): PositionProblem[] {
  const problems: PositionProblem[] = [];
  if (p.quantity === 0) problems.push({ column: 'quantity', message: 'must not be zero' });
  else if (LONG_TYPES.has(p.positionType) !== p.quantity > 0) {
    problems.push({
      column: 'quantity',
      message: `${p.positionType} needs a ${LONG_TYPES.has(p.positionType) ? 'positive' : 'negative'} quantity (quantities are signed), got ${p.quantity}`,
    });
  }
  if (isOption(p.positionType)) {
    if (p.strikePrice === null)
      problems.push({ column: 'strike_price', message: 'an option needs a strike price' });
    if (p.expirationDate === null)
      problems.push({ column: 'expiration_date', message: 'an option needs an expiration date' });
    if (p.underlyingSymbol === null)
      problems.push({ column: 'underlying_symbol', message: 'an option needs an underlying symbol' });
  } else {
    for (const [column, v] of [
      ['strike_price', p.strikePrice],
      ['expiration_date', p.expirationDate],
    ] as const) {
      if (v !== null)
        problems.push({
          column,
          message: `a ${p.positionType} stock position has no ${column.replace('_', ' ')}`,
        });
    }
  }
  if (p.impliedVolatility !== null && !(p.impliedVolatility > 0 && p.impliedVolatility <= 10)) {
    problems.push({
      column: 'implied_volatility',
      message: `must be an annualised decimal in (0, 10], got ${p.impliedVolatility}`,
    });
  }
  if (p.entryDate !== null && p.exitDate !== null && p.exitDate < p.entryDate) {
    problems.push({
      column: 'exit_date',
      message: `exit date ${p.exitDate} is before entry date ${p.entryDate}`,
    });
  }
  return problems;
}
