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

/**
 * A position's own symbol: a ticker, or an option's code, which may hold spaces (OCC style,
 * `AAPL  250117C00150000`). Still ASCII only: no control, direction-override or emoji character
 * can make one symbol display as another.
 */
export const POSITION_SYMBOL_PATTERN = /^[A-Za-z0-9^][A-Za-z0-9.\-^=_/ ]{0,31}$/;

/** A symbol as a message shows it: anything outside printable ASCII as a \u{…} escape. */
export function shownSymbol(symbol: string): string {
  return [...symbol]
    .map((c) => (/^[\x20-\x7e]$/.test(c) ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`))
    .join('');
}

/**
 * The one rule for a symbol from any input (price, company and portfolio files, the API, the
 * command line): why it is refused, or undefined. `option` admits an option code's spaces.
 * Example: symbolProblem('\u202eLPAA') → 'invalid symbol "\u{202e}LPAA" (letters, digits and . - ^ = _ / only)'.
 */
export function symbolProblem(symbol: string, option = false): string | undefined {
  return (option ? POSITION_SYMBOL_PATTERN : SYMBOL_PATTERN).test(symbol)
    ? undefined
    : `invalid symbol "${shownSymbol(symbol)}" (letters, digits and . - ^ = _ /${option ? ' or spaces' : ''} only, at most 32)`;
}
