import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { refreshUniverse } from '../universe.ts';
import {
  defaultMultiplier,
  impliedOptionSymbol,
  isOption,
  isPositionType,
  positionProblems,
  POSITION_TYPES,
  type Position,
} from '../portfolios/position.ts';
import { ImportError, ProblemList, readCsvRecords } from './csv.ts';
import { FieldReader } from './fields.ts';
import { canonicalSymbol, symbolProblem } from './symbols.ts';

export interface PortfolioTarget {
  name: string;
  owner: string;
  /** Required when the portfolio is new; updates it otherwise. */
  equity?: number;
  currency?: string;
}

export interface PortfolioImportResult {
  file: string;
  portfolioId: number;
  created: boolean;
  positions: number;
  inserted: number;
  updated: number;
  deleted: number;
}

/** Parses the positions of a portfolio CSV; every problem is located by line and column. */
export async function readPositionsCsv(file: string): Promise<Position[]> {
  const { problems, positions } = await parsePositionsCsv(file);
  problems.throwIfAny();
  return positions.map((v) => v.position);
}

/**
 * Parses a portfolio CSV without throwing: the positions of the good lines (with their line numbers)
 * and the problems of the bad ones, so that a caller can add its own checks (e.g. unknown symbols)
 * and report every bad line at once.
 */
export async function parsePositionsCsv(
  file: string,
): Promise<{ problems: ProblemList; positions: { line: number; position: Position }[] }> {
  const problems = new ProblemList(file);
  const byKey = new Map<string, { line: number; position: Position }>();
  await readCsvRecords(file, ['symbol', 'position_type', 'quantity'], problems, (get, line) => {
    const f = new FieldReader(problems, get, line);
    const type = f.text('position_type');
    if (type !== undefined && !isPositionType(type.toUpperCase())) {
      problems.add(
        line,
        'position_type',
        `unknown position type "${type}" (expected one of ${POSITION_TYPES.join(', ')})`,
      );
      return;
    }
    const positionType = type?.toUpperCase();
    const quantity = f.number('quantity');
    const entryPrice = f.optionalNumber('entry_price', 'price');
    const entryDate = f.optionalDate('entry_date');
    const exitDate = f.optionalDate('exit_date');
    const strikePrice = f.optionalNumber('strike_price', 'price');
    const expirationDate = f.optionalDate('expiration_date');
    const multiplier = f.optionalNumber('multiplier', 'positive');
    const impliedVolatility = f.optionalNumber('implied_volatility', 'positive');
    const underlyingText = f.optionalText('underlying_symbol');
    const underlyingSymbol = underlyingText === null ? null : canonicalSymbol(underlyingText);
    const underlyingProblem = underlyingSymbol === null ? undefined : symbolProblem(underlyingSymbol);
    if (underlyingProblem) {
      problems.add(line, 'underlying_symbol', underlyingProblem);
      return;
    }
    if (
      positionType === undefined ||
      !isPositionType(positionType) ||
      [
        quantity,
        entryPrice,
        entryDate,
        exitDate,
        strikePrice,
        expirationDate,
        multiplier,
        impliedVolatility,
      ].includes(undefined)
    ) {
      return;
    }
    const symbolText = f.optionalText('symbol');
    const position: Position = {
      symbol: symbolText === null ? '' : canonicalSymbol(symbolText),
      positionType,
      quantity: quantity as number,
      entryPrice: entryPrice ?? null,
      entryDate: entryDate ?? null,
      exitDate: exitDate ?? null,
      underlyingSymbol,
      strikePrice: strikePrice ?? null,
      expirationDate: expirationDate ?? null,
      multiplier: multiplier ?? defaultMultiplier(positionType),
      impliedVolatility: impliedVolatility ?? null,
    };
    position.symbol ||= impliedOptionSymbol(position) ?? '';
    const broken = positionProblems(position);
    for (const p of broken) problems.add(line, p.column, p.message);
    if (broken.length > 0) return;
    if (!position.symbol) {
      problems.add(line, 'symbol', 'symbol is missing');
      return;
    }
    const { symbol } = position;
    const bad = symbolProblem(symbol, isOption(positionType));
    if (bad) {
      problems.add(line, 'symbol', bad);
      return;
    }
    const key = `${symbol}|${positionType}|${position.entryDate ?? ''}`;
    const seen = byKey.get(key);
    if (seen && JSON.stringify(seen.position) !== JSON.stringify(position)) {
      problems.add(
        line,
        'quantity',
        `duplicate position ${symbol} ${positionType} entered ${position.entryDate ?? '(no date)'} with a different value (first at line ${seen.line})`,
      );
    }
    byKey.set(key, { line, position });
  });
  return { problems, positions: [...byKey.values()] };
}

/**
 * Imports one CSV as the full position list of a named portfolio of an existing user, in one
 * transaction: positions are matched on (symbol, type, entry date), changed ones updated, new ones
 * inserted and those absent from the file removed. Re-importing the same file changes nothing.
 */
export async function importPortfolio(
  pool: pg.Pool,
  file: string,
  target: PortfolioTarget,
): Promise<PortfolioImportResult> {
  if (target.equity !== undefined && !(Number.isFinite(target.equity) && target.equity > 0)) {
    throw new Error(`--equity must be a positive number, got ${target.equity}`);
  }
  const positions = await readPositionsCsv(file);
  return withTransaction(pool, async (client) => {
    const owner = await client.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [
      target.owner,
    ]);
    const ownerId = owner.rows[0]?.id;
    if (ownerId === undefined) {
      throw new Error(
        `owner "${target.owner}" does not exist: create the user first (factor-universe users create)`,
      );
    }
    const existing = await client.query<{ id: number }>(
      'SELECT id FROM portfolios WHERE owner_id = $1 AND name = $2 FOR UPDATE',
      [ownerId, target.name],
    );
    let portfolioId = existing.rows[0]?.id;
    const created = portfolioId === undefined;
    if (portfolioId === undefined) {
      if (target.equity === undefined) {
        throw new ImportError(file, [
          { line: 0, message: `portfolio "${target.name}" is new: give its equity balance (--equity)` },
        ]);
      }
      const ins = await client.query<{ id: number }>(
        'INSERT INTO portfolios (owner_id, name, equity_balance, currency) VALUES ($1, $2, $3, $4) RETURNING id',
        [ownerId, target.name, target.equity, target.currency ?? 'USD'],
      );
      portfolioId = ins.rows[0]!.id;
    } else {
      await client.query(
        `UPDATE portfolios SET equity_balance = COALESCE($2, equity_balance), currency = COALESCE($3, currency)
          WHERE id = $1 AND (equity_balance, currency) IS DISTINCT FROM (COALESCE($2, equity_balance), COALESCE($3, currency))`,
        [portfolioId, target.equity ?? null, target.currency ?? null],
      );
    }
    const col = <T>(pick: (p: Position) => T) => positions.map(pick);
    const merged = await client.query<{ inserted: boolean }>(
      `INSERT INTO positions AS p (portfolio_id, symbol, position_type, quantity, entry_price, entry_date, exit_date,
         underlying_symbol, strike_price, expiration_date, multiplier, implied_volatility)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::float8[], $5::float8[], $6::date[], $7::date[],
         $8::text[], $9::float8[], $10::date[], $11::float8[], $12::float8[])
       ON CONFLICT (portfolio_id, symbol, position_type, entry_date) DO UPDATE SET
         quantity = EXCLUDED.quantity, entry_price = EXCLUDED.entry_price, exit_date = EXCLUDED.exit_date,
         underlying_symbol = EXCLUDED.underlying_symbol, strike_price = EXCLUDED.strike_price,
         expiration_date = EXCLUDED.expiration_date, multiplier = EXCLUDED.multiplier,
         implied_volatility = EXCLUDED.implied_volatility
       WHERE (p.quantity, p.entry_price, p.exit_date, p.underlying_symbol, p.strike_price, p.expiration_date,
              p.multiplier, p.implied_volatility)
             IS DISTINCT FROM
             (EXCLUDED.quantity, EXCLUDED.entry_price, EXCLUDED.exit_date, EXCLUDED.underlying_symbol,
              EXCLUDED.strike_price, EXCLUDED.expiration_date, EXCLUDED.multiplier, EXCLUDED.implied_volatility)
       RETURNING (xmax = 0) AS inserted`,
      [
        portfolioId,
        col((p) => p.symbol),
        col((p) => p.positionType),
        col((p) => p.quantity),
        col((p) => p.entryPrice),
        col((p) => p.entryDate),
        col((p) => p.exitDate),
        col((p) => p.underlyingSymbol),
        col((p) => p.strikePrice),
        col((p) => p.expirationDate),
        col((p) => p.multiplier),
        col((p) => p.impliedVolatility),
      ],
    );
    const deleted = await client.query(
      `DELETE FROM positions p
        WHERE p.portfolio_id = $1
          AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[], $4::date[]) AS f(symbol, position_type, entry_date)
                           WHERE f.symbol = p.symbol AND f.position_type = p.position_type
                             AND f.entry_date IS NOT DISTINCT FROM p.entry_date)`,
      [portfolioId, col((p) => p.symbol), col((p) => p.positionType), col((p) => p.entryDate)],
    );
    await refreshUniverse(client);
    const inserted = merged.rows.filter((r) => r.inserted).length;
    return {
      file,
      portfolioId,
      created,
      positions: positions.length,
      inserted,
      updated: merged.rows.length - inserted,
      deleted: deleted.rowCount ?? 0,
    };
  });
}
