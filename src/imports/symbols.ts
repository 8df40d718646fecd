/** Ticker characters we accept: letters, digits and the separators real feeds use (BRK-B, ^VIX). */
export const SYMBOL_PATTERN = /^[A-Za-z0-9^][A-Za-z0-9.\-^=_/]{0,31}$/;

/**
 * One spelling per share class: feeds write Berkshire's B shares `BRK.B` or `BRK-B`; the store
 * keeps the dash (the price data's form), so a company profile meets its prices.
 * Example: `BF.B` → `BF-B`; `AAPL` stays `AAPL`.
 */
export function canonicalSymbol(symbol: string): string {
  return /^[A-Z]+\.[A-Z]$/.test(symbol) ? symbol.replace('.', '-') : symbol;
}
