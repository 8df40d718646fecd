/** The stored values of a position on a date (columns of `position_daily_values`), each possibly null. */
export const POSITION_VALUE_NUMBERS = [
  'price',
  'market_value',
  'exposure',
  'weight',
  'delta',
  'gamma',
  'vega',
  'theta',
  'pnl',
] as const;

export type PositionValueRow = {
  position_id: number;
  symbol: string;
  position_type: string;
  quantity: number;
  /** the symbol whose betas the position takes: the underlying for an option */
  beta_symbol: string;
  underlying_symbol: string | null;
  strike_price: number | null;
  expiration_date: string | null;
  entry_date: string | null;
  exit_date: string | null;
  multiplier: number;
  /**
   * On the date (METHODOLOGY §7, "held at the close of D"): `held`; `expired` (an option with
   * expiration_date ≤ D); `exited` (exit_date ≤ D); `not_entered` (entry_date > D).
   */
  status: 'held' | 'expired' | 'exited' | 'not_entered';
} & Record<(typeof POSITION_VALUE_NUMBERS)[number], number | null>;
