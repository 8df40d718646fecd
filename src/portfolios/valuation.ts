import { toDayNumber } from '../dates.ts';
import type { PnlMethod } from '../db/schema.ts';
import { bsGreeks, type Greeks } from '../math/black-scholes.ts';
import { isCall, isExpired, isOption, type Position } from './position.ts';

/**
 * Values one position on a date (METHODOLOGY.md sections 7 and 8): market value, delta-adjusted
 * exposure, Greeks of an option, and the day's P&L. Pure: the market comes in as `MarketView`.
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
  /** Annualised realised volatility over the ridge window, when known. */
  realizedVol(symbol: string): number | undefined;
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
  /** An option expired on or before the date: it contributes nothing. */
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
  m: MarketView,
  s: OptionSettings,
): OptionState {
  const underlying = p.underlyingSymbol!;
  const realized = m.realizedVol(underlying);
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
  // Every result is built by this one literal: one object shape for all positions, and no
  // `{...base, more}` spread, which V8 builds on a slow path (µs per object, 50,000 per portfolio run).
  const valued = (
    expired: boolean,
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
    expired,
    price,
    marketValue,
    exposure,
    option: state,
    pnl,
    pnlMethod,
  });

  if (isExpired(p, m.date)) return valued(true, 0, 0, null, 0, 'expired');
  if (!option) {
    const marketValue = price === null ? null : size * price;
    const entryBase = p.entryDate === m.date ? (p.entryPrice ?? close) : prevClose;
    if (firstDay) return valued(false, marketValue, marketValue, null, 0, 'first_day');
    if (close !== undefined && entryBase !== undefined)
      return valued(false, marketValue, marketValue, null, size * (close - entryBase), 'price');
    return valued(false, marketValue, marketValue, null, null, 'missing_price');
  }

  const state = price === null ? null : optionState(p, price, m.date, m, s);
  const own = m.quote(p.symbol);
  const marketValue = state === null ? null : size * (own.close ?? state.price);
  const exposure = state === null ? null : state.delta * size * price!;
  let pnl: number | null = null;
  let pnlMethod: PnlMethod = 'missing_price';
  if (firstDay) [pnl, pnlMethod] = [0, 'first_day'];
  else if (own.close !== undefined && own.prevClose !== undefined) {
    [pnl, pnlMethod] = [size * (own.close - own.prevClose), 'option_close'];
  } else if (
    close !== undefined &&
    prevClose !== undefined &&
    m.prevDate !== undefined &&
    p.expirationDate! > m.prevDate
  ) {
    const deltaPrev = optionState(p, prevClose, m.prevDate, m, s).delta;
    [pnl, pnlMethod] = [deltaPrev * size * (close - prevClose), 'delta_approximation'];
  }
  return valued(false, marketValue, exposure, state, pnl, pnlMethod);
}
