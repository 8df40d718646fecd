/**
 * The columns of a portfolio CSV (`import portfolio`, `what-if`), written down once for `--help`
 * and docs/cli.md, so nobody has to copy them from the demo files.
 */
export const PORTFOLIO_CSV_HELP = `Portfolio CSV (a header row, then one position a line; any column order):
  symbol             the instrument: a stock ticker, or the option's own symbol (empty for an option: built
                     from underlying, expiry, call/put and strike)
  position_type      LONG, SHORT (stock); LC, LP, SC, SP (long call, long put, short call, short put)
  quantity           signed: positive for LONG, LC, LP; negative for SHORT, SC, SP (contracts for options)
  entry_price        optional; price paid per share (per unit of premium for an option)
  entry_date         optional; YYYY-MM-DD (the portfolio's history starts at its earliest entry date)
  exit_date          optional; YYYY-MM-DD, not before entry_date (the position is held until then)
  underlying_symbol  options only (required): the stock the option is written on
  strike_price       options only (required)
  expiration_date    options only (required): YYYY-MM-DD
  implied_volatility optional, options: annualised decimal in (0, 10], e.g. 0.25 (default: the underlying's
                     realised volatility)
  multiplier         optional: shares per contract (default 100 for options, 1 for stocks)
Example:
  symbol,position_type,quantity,entry_price,entry_date,underlying_symbol,strike_price,expiration_date,implied_volatility
  AAPL,LONG,100,180.5,2026-01-05,,,,
  ,LP,2,4.1,2026-01-05,AAPL,170,2026-12-18,0.3`;
