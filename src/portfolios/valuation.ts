import { toDayNumber } from '../dates.ts';
import type { PnlMethod } from '../db/schema.ts';
import { bsGreeks, type Greeks } from '../math/black-scholes.ts';
import { entersOn, isCall, isHeld, isOption, type Position } from './position.ts';

/**
 * Values one position on a date (METHODOLOGY.md §7–§9): market value, delta-adjusted exposure,
 * Greeks of an option (while held at the close of D), and the day's P&L (over the part of
 * (prev, D] in which it was held). Pure: the market comes in as `MarketView`.
 */

export interface OptionSettings {
  /** Continuously compounded risk-free rate for Black–Scholes. */
  riskFreeRate: number;
  /** Volatility when the position has no implied one and the underlying no realised one. */
  fallbackVol: number;
}

export const DEFAULT_OPTION_SETTINGS: OptionSettings = { riskFreeRate: 0.045, fallbackVol: 0.25 };

export interface Quote {
  close?: number;
  prevClose?: number;
}

export interface MarketView {
  date: string;
  /** The previous trading day, if the store has one. */
  prevDate?: string;
  quote(symbol: string): Quote;
  /** Annualised realised volatility over the ridge window ending on `date`, when known. */
  realizedVol(symbol: string): number | undefined;
  /** The same over the window ending on `prevDate` (for an option's delta_prev, §8). */
  prevRealizedVol(symbol: string): number | undefined;
}

export interface HeldPosition extends Position {
  id: number;
}

export interface OptionState extends Greeks {
  vol: number;
  volSource: 'implied' | 'realized' | 'default';
  years: number;
}

export interface PositionValue {
  positionId: number;
  symbol: string;
  /** The symbol whose betas apply: the underlying of an option. */
  betaSymbol: string;
  isOption: boolean;
  /**
   * Not held at the close of the date (§9): an option expired on or before it, or a position
   * exited on it. It contributes nothing to market value, exposures, Greeks or stress; on its exit
   * or expiration day it still books its last move.
   */
  expired: boolean;
  /** Close of the stock, or of the option's underlying, on the date. */
  price: number | null;
  marketValue: number | null;
  /** Delta-adjusted dollar exposure (a stock's market value). */
  exposure: number | null;
  option: OptionState | null;
  pnl: number | null;
  pnlMethod: PnlMethod;
}

function optionState(
  p: HeldPosition,
  spot: number,
  onDate: string,
  realized: number | undefined,
  s: OptionSettings,
): OptionState {
  const [vol, volSource] =
    p.impliedVolatility !== null
      ? [p.impliedVolatility, 'implied' as const]
      : realized !== undefined
        ? [realized, 'realized' as const]
        : [s.fallbackVol, 'default' as const];
  const years = (toDayNumber(p.expirationDate!) - toDayNumber(onDate)) / 365;
  const g = bsGreeks({
    call: isCall(p.positionType),
    spot,
    strike: p.strikePrice!,
    years,
    rate: s.riskFreeRate,
    vol,
  });
  // a literal, not a spread of `g`: V8 builds `{...g, more}` on a slow path (µs per object)
  return {
    price: g.price,
    delta: g.delta,
    gamma: g.gamma,
    vega: g.vega,
    theta: g.theta,
    vol,
    volSource,
    years,
  };
}

/**
 * The day's P&L rules (METHODOLOGY.md §8–§9), in order:
 * - the portfolio's first date books nothing (`first_day`);
 * - an option expired before D books nothing (`expired`); on its expiration day it books its last
 *   move like any other day; a position exited before D, or entered after it, books nothing
 *   (`not_held`);
 * - entered within (prev, D]: quantity × multiplier × (C_D − entry_price) when the entry price is
 *   known and D's close of the instrument itself is, else 0 (`entry_day`); a delta-approximated
 *   option books 0. Nothing from before the entry;
 * - otherwise (an ordinary day, the exit day, the expiration day): a stock
 *   quantity × multiplier × (C_D − C_prev); an option from its own closes, else
 *   delta_prev × quantity × multiplier × (S_D − S_prev) with delta_prev the §7 delta as of prev
 *   (S_prev, T = (expiration − prev)/365, the realised volatility of the window ending on prev).
 *
 * Example: 10 shares entered on D at 49.5, C_D = 50 → 10 × (50 − 49.5) = 5, whatever C_prev was.
 * @param firstDay the portfolio has no earlier snapshot: every P&L is 0
 */
export function valuePosition(
  p: HeldPosition,
  m: MarketView,
  firstDay: boolean,
  s: OptionSettings,
): PositionValue {
  const option = isOption(p.positionType);
  const betaSymbol = option ? p.underlyingSymbol! : p.symbol;
  const size = p.quantity * p.multiplier;
  const { close, prevClose } = m.quote(betaSymbol);
  const price = close ?? null;
  const held = isHeld(p, m.date);
  // Every result is built by this one literal: one object shape for all positions, and no
  // `{...base, more}` spread, which V8 builds on a slow path (µs per object, 50,000 per portfolio run).
  const valued = (
    marketValue: number | null,
    exposure: number | null,
    state: OptionState | null,
    pnl: number | null,
    pnlMethod: PnlMethod,
  ): PositionValue => ({
    positionId: p.id,
    symbol: p.symbol,
    betaSymbol,
    isOption: option,
    expired: !held,
    price,
    marketValue,
    exposure,
    option: state,
    pnl,
    pnlMethod,
  });

  // What is held at the close of D: market value, delta-adjusted exposure, Greeks.
  let marketValue: number | null = 0;
  let exposure: number | null = 0;
  let state: OptionState | null = null;
  const own = option ? m.quote(p.symbol) : {};
  if (held) {
    if (!option) marketValue = exposure = price === null ? null : size * price;
    else {
      state = price === null ? null : optionState(p, price, m.date, m.realizedVol(betaSymbol), s);
      marketValue = state === null ? null : size * (own.close ?? state.price);
      exposure = state === null ? null : state.delta * size * price!;
    }
  }

  if (firstDay) return valued(marketValue, exposure, state, 0, 'first_day');
  if (option && p.expirationDate! < m.date) return valued(marketValue, exposure, state, 0, 'expired');
  if ((p.entryDate !== null && p.entryDate > m.date) || (p.exitDate !== null && p.exitDate < m.date))
    return valued(marketValue, exposure, state, 0, 'not_held'); // nothing of it lies in (prev, D]
  if (entersOn(p, m.date, m.prevDate)) {
    const c = option ? own.close : close;
    if (p.entryPrice === null || (option && c === undefined))
      return valued(marketValue, exposure, state, 0, 'entry_day');
    if (c === undefined) return valued(marketValue, exposure, state, null, 'missing_price');
    return valued(marketValue, exposure, state, size * (c - p.entryPrice), option ? 'option_close' : 'price');
  }
  if (!option) {
    return close !== undefined && prevClose !== undefined
      ? valued(marketValue, exposure, state, size * (close - prevClose), 'price')
      : valued(marketValue, exposure, state, null, 'missing_price');
  }
  if (own.close !== undefined && own.prevClose !== undefined)
    return valued(marketValue, exposure, state, size * (own.close - own.prevClose), 'option_close');
  if (close !== undefined && prevClose !== undefined && m.prevDate !== undefined) {
    const deltaPrev = optionState(p, prevClose, m.prevDate, m.prevRealizedVol(betaSymbol), s).delta;
    return valued(
      marketValue,
      exposure,
      state,
      deltaPrev * size * (close - prevClose),
      'delta_approximation',
    );
  }
  return valued(marketValue, exposure, state, null, 'missing_price');
}
