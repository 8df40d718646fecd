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
} & Record<(typeof POSITION_VALUE_NUMBERS)[number], number | null>;
