import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { refreshUniverse } from '../universe.ts';
import { ProblemList, readCsvRecords } from './csv.ts';
import { FieldReader } from './fields.ts';
import { canonicalSymbol, SYMBOL_PATTERN, symbolProblem } from './symbols.ts';

const TEXT_COLUMNS = ['company_name', 'sector', 'industry'] as const;
const NUMBER_COLUMNS = [
  'market_cap',
  'price_on_market_cap_date',
  'enterprise_value',
  'pe_ratio',
  'ps_ratio',
  'pb_ratio',
  'beta',
  'dividend_yield',
] as const;
/** Columns that cannot be negative; a negative P/E (losses) is real and allowed. */
const NON_NEGATIVE = new Set(['market_cap', 'price_on_market_cap_date', 'dividend_yield']);
const KNOWN = new Set<string>(['symbol', 'market_cap_date', ...TEXT_COLUMNS, ...NUMBER_COLUMNS]);

interface CompanyRow {
  line: number;
  symbol: string;
  text: (string | null)[];
  numbers: (number | null)[];
  marketCapDate: string | null;
  extra: Record<string, string>;
}

export interface CompanyImportResult {
  file: string;
  rows: number;
  written: number;
  unchanged: number;
}

/**
 * Imports company profiles (the columns of `companies.csv`; extra columns are kept in `extra`).
 * One transaction for the file; rows whose values did not change are not rewritten.
 */
export async function importCompanies(pool: pg.Pool, file: string): Promise<CompanyImportResult> {
  const problems = new ProblemList(file);
  const bySymbol = new Map<string, CompanyRow>();
  await readCsvRecords(file, ['symbol'], problems, (get, line, header) => {
    const f = new FieldReader(problems, get, line);
    const given = f.text('symbol');
    const symbol = given === undefined ? undefined : canonicalSymbol(given);
    if (symbol !== undefined && !SYMBOL_PATTERN.test(symbol))
      problems.add(line, 'symbol', symbolProblem(symbol)!);
    const numbers = NUMBER_COLUMNS.map((c) =>
      f.optionalNumber(c, NON_NEGATIVE.has(c) ? 'nonNegative' : 'any'),
    );
    const marketCapDate = f.optionalDate('market_cap_date');
    if (symbol === undefined || numbers.includes(undefined) || marketCapDate === undefined) return;
    const row: CompanyRow = {
      line,
      symbol,
      text: TEXT_COLUMNS.map((c) => f.optionalText(c)),
      numbers: numbers as (number | null)[],
      marketCapDate,
      extra: Object.fromEntries(header.filter((h) => !KNOWN.has(h) && get(h) !== '').map((h) => [h, get(h)])),
    };
    const seen = bySymbol.get(symbol);
    if (seen && JSON.stringify({ ...seen, line: 0 }) !== JSON.stringify({ ...row, line: 0 })) {
      problems.add(
        line,
        'symbol',
        `duplicate row for ${symbol} with a different value (first at line ${seen.line})`,
      );
    }
    bySymbol.set(symbol, row);
  });
  problems.throwIfAny();
  const rows = [...bySymbol.values()];
  const column = <T>(pick: (r: CompanyRow) => T) => rows.map(pick);

  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `INSERT INTO company_profiles AS p (symbol, company_name, sector, industry, market_cap_date,
         ${NUMBER_COLUMNS.join(', ')}, extra)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[],
         ${NUMBER_COLUMNS.map((_, i) => `$${i + 6}::float8[]`).join(', ')}, $${NUMBER_COLUMNS.length + 6}::jsonb[])
       ON CONFLICT (symbol) DO UPDATE SET
         company_name = EXCLUDED.company_name, sector = EXCLUDED.sector, industry = EXCLUDED.industry,
         market_cap_date = EXCLUDED.market_cap_date,
         ${NUMBER_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
         extra = EXCLUDED.extra, updated_at = now()
       WHERE (p.company_name, p.sector, p.industry, p.market_cap_date, ${NUMBER_COLUMNS.map((c) => `p.${c}`).join(', ')}, p.extra)
             IS DISTINCT FROM
             (EXCLUDED.company_name, EXCLUDED.sector, EXCLUDED.industry, EXCLUDED.market_cap_date,
              ${NUMBER_COLUMNS.map((c) => `EXCLUDED.${c}`).join(', ')}, EXCLUDED.extra)`,
      [
        column((r) => r.symbol),
        ...TEXT_COLUMNS.map((_, i) => column((r) => r.text[i])),
        column((r) => r.marketCapDate),
        ...NUMBER_COLUMNS.map((_, i) => column((r) => r.numbers[i])),
        column((r) => JSON.stringify(r.extra)),
      ],
    );
    await refreshUniverse(client);
    return { file, rows: rows.length, written: rowCount ?? 0, unchanged: rows.length - (rowCount ?? 0) };
  });
}
