export const OPTION_TYPES = new Set(['LC', 'LP', 'SC', 'SP']);

/** "DLLK 170 P 2026-12-18" for an option, the symbol for a stock: options on one stock stay apart. */
export function positionLabel(x: {
  symbol: string;
  position_type: string;
  underlying_symbol?: string | null;
  strike_price?: number | null;
  expiration_date?: string | null;
}): string {
  if (!OPTION_TYPES.has(x.position_type) || x.strike_price === null || x.strike_price === undefined)
    return x.symbol;
  const right = x.position_type === 'LC' || x.position_type === 'SC' ? 'C' : 'P';
  return `${x.underlying_symbol ?? x.symbol} ${x.strike_price} ${right} ${x.expiration_date ?? ''}`.trim();
}
