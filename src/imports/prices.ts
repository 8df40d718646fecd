import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { withTransaction } from '../db/transaction.ts';
import { applyRevision, findRevision, type Revision } from '../market/price-history.ts';
import type { DailyBar } from '../market/providers/types.ts';
import { refreshUniverse } from '../universe.ts';
import { ImportError, ProblemList, readCsvRecords } from './csv.ts';
import { FieldReader } from './fields.ts';
import { canonicalSymbol, SYMBOL_PATTERN, symbolProblem } from './symbols.ts';

export interface PriceImportResult {
  file: string;
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  symbols: number;
  /** Symbols whose stored closes the file changed, with what was invalidated (as a provider's revision). */
  revised: { symbol: string; firstChanged: string; betas: number; metrics: number; repriced: number }[];
}

const OPTIONAL_COLUMNS = ['open', 'high', 'low', 'volume'] as const;

/** What parsing one file found (its rows went to the COPY as they were encoded). */
interface ParsedPrices {
  rows: number;
  /** Each symbol's first and last date in the file. */
  range: Map<string, [first: string, last: string]>;
  /** False when every symbol's dates strictly increase down the file, so no (symbol, date) repeats. */
  mayRepeat: boolean;
}

function copyValue(v: number | null): string {
  return v === null ? '\\N' : String(v);
}

/** One validated row of a price file; the optional columns are null when absent or empty. */
export interface PriceRow {
  line: number;
  symbol: string;
  date: string;
  close: number;
  open: number | null;
  high: number | null;
  low: number | null;
  volume: number | null;
}

/**
 * Reads and validates one price file, handing each good row to `onRow`; throws `ImportError` naming
 * every bad row (line and column) once the file is read. `fixedSymbol` is set for per-symbol files
 * (`AAPL.csv`), whose rows carry no symbol column. The `file` market data provider reads through
 * this too, so a file obeys the same rules whichever way it comes in.
 */
export async function readPriceRows(
  file: string,
  fixedSymbol: string | undefined,
  onRow: (row: PriceRow) => void,
): Promise<void> {
  const problems = new ProblemList(file);
  const required = fixedSymbol ? ['date', 'close'] : ['symbol', 'date', 'close'];
  const extraColumns = (header: readonly string[]) => OPTIONAL_COLUMNS.filter((c) => header.includes(c));
  let present: (typeof OPTIONAL_COLUMNS)[number][] | undefined;
  await readCsvRecords(file, required, problems, (get, line, header) => {
    const f = new FieldReader(problems, get, line);
    const given = fixedSymbol ?? f.text('symbol');
    const symbol = given === undefined ? undefined : canonicalSymbol(given);
    if (symbol !== undefined && !SYMBOL_PATTERN.test(symbol))
      problems.add(line, 'symbol', symbolProblem(symbol)!);
    const date = f.date('date');
    const close = f.number('close', 'price');
    present ??= extraColumns(header);
    let extras: (number | null)[] = [null, null, null, null];
    if (present.length > 0) {
      const values = OPTIONAL_COLUMNS.map((c) =>
        present?.includes(c) ? f.optionalNumber(c, c === 'volume' ? 'nonNegative' : 'price') : null,
      );
      if (values.includes(undefined)) return;
      extras = values as (number | null)[];
    }
    if (symbol === undefined || date === undefined || close === undefined) return;
    const [open = null, high = null, low = null, volume = null] = extras;
    onRow({ line, symbol, date, close, open, high, low, volume });
  });
  problems.throwIfAny();
}

/**
 * Reads and validates one price file into COPY text (see `readPriceRows`), handing each chunk of
 * 16,384 rows to `onChunk` as soon as it is encoded, so that the server loads one chunk while the next
 * is parsed. Throws `ImportError` after the whole file was read when any row was bad.
 */
async function parsePriceFile(
  file: string,
  fixedSymbol: string | undefined,
  onChunk: (chunk: string) => void,
  encode: (r: PriceRow) => string = stagingLine,
): Promise<ParsedPrices> {
  let pending: string[] = [];
  let rows = 0;
  const lastDate = new Map<string, string>();
  const range = new Map<string, [first: string, last: string]>();
  let mayRepeat = false;
  await readPriceRows(file, fixedSymbol, (r) => {
    const previous = lastDate.get(r.symbol);
    if (previous !== undefined && previous >= r.date) mayRepeat = true;
    lastDate.set(r.symbol, r.date);
    const seen = range.get(r.symbol);
    if (!seen) range.set(r.symbol, [r.date, r.date]);
    else if (r.date < seen[0]) seen[0] = r.date;
    else if (r.date > seen[1]) seen[1] = r.date;
    // Joining many short strings at once is far cheaper for the GC than growing one string.
    pending.push(encode(r));
    rows++;
    if (pending.length === 16384) {
      onChunk(pending.join(''));
      pending = [];
    }
  });
  if (pending.length > 0) onChunk(pending.join(''));
  return { rows, mayRepeat, range };
}

/** A row for the staging table: its line first (repeats are reported by line). */
const stagingLine = (r: PriceRow): string =>
  `${r.line}\t${r.symbol}\t${r.date}\t${r.close}\t${copyValue(r.open)}\t${copyValue(r.high)}\t${copyValue(r.low)}\t${copyValue(r.volume)}\n`;

/** COPY text of a value from the code (a file's base name): backslash, tab and line breaks escaped. */
const copyText = (v: string): string =>
  v.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

/**
 * Rows repeated within the file: identical repeats are dropped, differing ones reject the file.
 * Returns how many repeats were dropped.
 */
async function dropRepeatedRows(client: pg.PoolClient, file: string): Promise<number> {
  const { rows } = await client.query<{ symbol: string; date: string; lines: number[]; variants: number }>(`
    SELECT symbol, date::text AS date, array_agg(line ORDER BY line) AS lines,
           count(DISTINCT ROW(close, open, high, low, volume)::text)::int AS variants
      FROM import_prices GROUP BY symbol, date HAVING count(*) > 1`);
  const conflicting = rows.filter((d) => d.variants > 1);
  if (conflicting.length > 0) {
    throw new ImportError(
      file,
      conflicting.slice(0, 20).map((d) => ({
        line: d.lines[1] ?? 0,
        message: `duplicate row for ${d.symbol} on ${d.date} with a different value (lines ${d.lines.join(', ')})`,
      })),
      conflicting.length > 20,
    );
  }
  const repeats = rows.flatMap((d) => d.lines.slice(1));
  if (repeats.length > 0) await client.query('DELETE FROM import_prices WHERE line = ANY($1)', [repeats]);
  return repeats.length;
}

/**
 * Parses the file straight into a temp table (COPY, while the next rows are parsed) and merges it
 * into the store. A bad file throws its `ImportError` once read; the COPY is abandoned and the
 * caller's transaction rolls back, so nothing of it is written.
 */
async function writePrices(
  client: pg.PoolClient,
  file: string,
  fixedSymbol: string | undefined,
): Promise<PriceImportResult> {
  // Serialises imports (the merge below is update-then-insert) while readers go on.
  await client.query('LOCK TABLE market_data_cache IN SHARE ROW EXCLUSIVE MODE');
  // Into an empty store (a first import) the rows go straight into market_data_cache: nothing to
  // merge, so no staging table. A file that repeats a (symbol, date) conflicts on the primary key;
  // it is then read again through the staging table, which drops identical repeats and names the rest.
  const { rows: empty } = await client.query<{ empty: boolean }>(
    'SELECT NOT EXISTS (SELECT 1 FROM market_data_cache) AS empty',
  );
  if (empty[0]?.empty) {
    await client.query('SAVEPOINT direct_import');
    try {
      const r = await writeDirect(client, file, fixedSymbol);
      await client.query('RELEASE SAVEPOINT direct_import');
      return r;
    } catch (e) {
      if ((e as { code?: string }).code !== '23505') throw e;
      await client.query('ROLLBACK TO SAVEPOINT direct_import');
    }
  }
  await client.query(`
    CREATE TEMP TABLE import_prices (
      line integer, symbol text, date date, close float8, open float8, high float8, low float8, volume float8
    ) ON COMMIT DROP`);
  const parsed = await copyWhileParsing(
    client,
    'COPY import_prices FROM STDIN (FORMAT text)',
    file,
    fixedSymbol,
  );
  const repeats = parsed.mayRepeat ? await dropRepeatedRows(client, file) : 0;
  await client.query('ANALYZE import_prices');

  const revisions = await findRevisions(client);

  // An explicit update-then-insert instead of INSERT ... ON CONFLICT: measured 8 s against 15 s for
  // 1.8M new rows, and rows whose values did not change are not rewritten at all.
  const source = path.basename(file);
  const updated = await client.query(
    `UPDATE market_data_cache m
        SET close = i.close, open = i.open, high = i.high, low = i.low, volume = i.volume,
            source = $1, updated_at = now()
       FROM import_prices i
      WHERE m.symbol = i.symbol AND m.date = i.date
        AND (m.close, m.open, m.high, m.low, m.volume) IS DISTINCT FROM (i.close, i.open, i.high, i.low, i.volume)`,
    [source],
  );
  const inserted = await client.query(
    `INSERT INTO market_data_cache (symbol, date, close, open, high, low, volume, source)
     SELECT symbol, date, close, open, high, low, volume, $1 FROM import_prices i
      WHERE NOT EXISTS (SELECT 1 FROM market_data_cache m WHERE m.symbol = i.symbol AND m.date = i.date)`,
    [source],
  );
  const symbols = await client.query<{ n: number }>(`
    WITH seen AS (SELECT symbol, min(date) AS first_seen, max(date) AS last_seen FROM import_prices GROUP BY symbol),
    ${UNIVERSE_UPSERT}`);
  await refreshUniverse(client);
  // The same rule as a provider's revised history: what was computed from the old closes goes.
  const runId = `import-${randomUUID()}`;
  const revised: PriceImportResult['revised'] = [];
  for (const r of revisions) {
    const w = await applyRevision(client, { ...r, provider: 'import', runId });
    revised.push({
      symbol: r.symbol,
      firstChanged: r.revision.closesFrom,
      betas: w.betasInvalidated,
      metrics: w.metricsInvalidated,
      repriced: w.metricsRepriced,
    });
  }

  const ins = inserted.rowCount ?? 0;
  const upd = updated.rowCount ?? 0;
  return {
    file,
    rows: parsed.rows,
    inserted: ins,
    updated: upd,
    unchanged: parsed.rows - repeats - ins - upd,
    symbols: symbols.rows[0]?.n ?? 0,
    revised,
  };
}

/** Adds the symbols `seen` (symbol, first_seen, last_seen) to the universe or widens their range. */
const UNIVERSE_UPSERT = `
    up AS (
      INSERT INTO symbol_universe AS u (symbol, first_seen, last_seen) SELECT * FROM seen
      ON CONFLICT (symbol) DO UPDATE
        SET first_seen = LEAST(u.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(u.last_seen, EXCLUDED.last_seen), updated_at = now()
        WHERE u.first_seen IS DISTINCT FROM LEAST(u.first_seen, EXCLUDED.first_seen)
           OR u.last_seen IS DISTINCT FROM GREATEST(u.last_seen, EXCLUDED.last_seen)
    )
    SELECT count(*)::int AS n FROM seen`;

/** Parses a file straight into market_data_cache (a first import: see `writePrices`). */
async function writeDirect(
  client: pg.PoolClient,
  file: string,
  fixedSymbol: string | undefined,
): Promise<PriceImportResult> {
  const source = copyText(path.basename(file));
  const parsed = await copyWhileParsing(
    client,
    'COPY market_data_cache (symbol, date, close, open, high, low, volume, source) FROM STDIN (FORMAT text)',
    file,
    fixedSymbol,
    (r) =>
      `${r.symbol}\t${r.date}\t${r.close}\t${copyValue(r.open)}\t${copyValue(r.high)}\t${copyValue(r.low)}\t${copyValue(r.volume)}\t${source}\n`,
  );
  const symbols = await client.query<{ n: number }>(
    `WITH seen AS (SELECT * FROM unnest($1::text[], $2::date[], $3::date[]) AS s(symbol, first_seen, last_seen)),
     ${UNIVERSE_UPSERT}`,
    [
      [...parsed.range.keys()],
      [...parsed.range.values()].map((r) => r[0]),
      [...parsed.range.values()].map((r) => r[1]),
    ],
  );
  await refreshUniverse(client);
  return {
    file,
    rows: parsed.rows,
    inserted: parsed.rows,
    updated: 0,
    unchanged: 0,
    symbols: symbols.rows[0]?.n ?? 0,
    // an empty store has no closes to revise
    revised: [],
  };
}

/** Runs `copy` fed by the file's rows as they are parsed; the file's own problem wins over the COPY's. */
async function copyWhileParsing(
  client: pg.PoolClient,
  copy: string,
  file: string,
  fixedSymbol: string | undefined,
  encode?: (r: PriceRow) => string,
): Promise<ParsedPrices> {
  const chunks = new PassThrough();
  const parsing = parsePriceFile(file, fixedSymbol, (chunk) => chunks.write(chunk), encode).then(
    (parsed) => {
      chunks.end();
      return parsed;
    },
    (e: unknown) => {
      chunks.destroy(e instanceof Error ? e : new Error(String(e)));
      throw e;
    },
  );
  const copied = pipeline(chunks, client.query(copyFrom(copy)));
  const [load, parse] = await Promise.allSettled([copied, parsing]);
  // the file's own problem first: a failed COPY is then only its consequence
  if (parse.status === 'rejected') throw parse.reason;
  if (load.status === 'rejected') throw load.reason;
  return parse.value;
}

/**
 * The symbols whose stored closes the loaded file changes, each with its revision (first changed
 * close, first changed daily return), read before the merge: for each such symbol, its stored closes
 * from the last one before the first change, beside the file's. `findRevision` then applies the
 * provider path's tolerances, so a file re-imported as it was revises nothing.
 */
async function findRevisions(
  client: pg.PoolClient,
): Promise<{ symbol: string; rows: number; revision: Revision }[]> {
  const { rows } = await client.query<{ symbol: string; n: number; date: string; old: number; new: number }>(`
    WITH changed AS (
      SELECT i.symbol, min(i.date) AS first_changed, count(*)::int AS n
        FROM import_prices i JOIN market_data_cache m ON m.symbol = i.symbol AND m.date = i.date
       WHERE m.close IS DISTINCT FROM i.close
       GROUP BY i.symbol),
    start AS (
      SELECT c.symbol, c.n,
             coalesce((SELECT max(p.date) FROM market_data_cache p WHERE p.symbol = c.symbol AND p.date < c.first_changed),
                      c.first_changed) AS from_date
        FROM changed c)
    SELECT s.symbol, s.n, m.date::text AS date, m.close AS old, coalesce(i.close, m.close) AS new
      FROM start s
      JOIN market_data_cache m ON m.symbol = s.symbol AND m.date >= s.from_date
      LEFT JOIN import_prices i ON i.symbol = m.symbol AND i.date = m.date
     ORDER BY s.symbol, m.date`);
  const found: { symbol: string; rows: number; revision: Revision }[] = [];
  let i = 0;
  while (i < rows.length) {
    const symbol = rows[i]!.symbol;
    const stored = new Map<string, number>();
    const bars: DailyBar[] = [];
    for (; i < rows.length && rows[i]!.symbol === symbol; i++) {
      const r = rows[i]!;
      stored.set(r.date, r.old);
      bars.push({ date: r.date, close: null, adjClose: r.new, volume: null });
    }
    const { closesFrom, returnsFrom } = findRevision(stored, bars);
    if (closesFrom)
      found.push({ symbol, rows: rows[i - 1]!.n, revision: { closesFrom, returnsFrom, actions: [] } });
  }
  return found;
}

/** Imports one file in one transaction: all of it or, on any problem, none of it. */
export async function importPriceFile(
  pool: pg.Pool,
  file: string,
  fixedSymbol?: string,
): Promise<PriceImportResult> {
  return withTransaction(pool, (client) => writePrices(client, file, fixedSymbol));
}

export interface PriceImportSummary {
  results: PriceImportResult[];
  failures: ImportError[];
}

/**
 * The files of a price source: a long-format file (symbol column), or a folder's `SYMBOL.csv[.gz]`
 * files, each with the symbol its name gives.
 */
export function priceFiles(target: string): [file: string, symbol: string | undefined][] {
  const files: [string, string | undefined][] = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((n) => /\.csv(\.gz)?$/i.test(n))
        .sort()
        .map((n) => [path.join(target, n), n.replace(/\.csv(\.gz)?$/i, '')])
    : [[target, undefined]];
  if (files.length === 0) throw new Error(`${target}: no .csv or .csv.gz files in this folder`);
  return files;
}

/** Rejects a per-symbol file whose name is not a valid symbol. */
export function checkFileSymbol(file: string, symbol: string | undefined): void {
  if (symbol !== undefined && !SYMBOL_PATTERN.test(symbol))
    throw new ImportError(file, [
      { line: 0, message: `file name does not give a valid symbol ("${symbol}")` },
    ]);
}

/**
 * Imports a long-format file (`symbol,date,close[,open,high,low,volume]`, optionally gzipped) or a
 * folder of per-symbol files (`SYMBOL.csv` with `date,close`). Each file is its own transaction:
 * a rejected file writes nothing and the others still land.
 */
export async function importPrices(
  pool: pg.Pool,
  target: string,
  onFile: (r: PriceImportResult | ImportError) => void = () => undefined,
): Promise<PriceImportSummary> {
  const summary: PriceImportSummary = { results: [], failures: [] };
  for (const [file, symbol] of priceFiles(target)) {
    try {
      checkFileSymbol(file, symbol);
      const r = await importPriceFile(pool, file, symbol);
      summary.results.push(r);
      onFile(r);
    } catch (e) {
      if (!(e instanceof ImportError)) throw e;
      summary.failures.push(e);
      onFile(e);
    }
  }
  // Fresh statistics for the planner: a first import changes the table's size by orders of magnitude.
  if (summary.results.some((r) => r.inserted > 0)) await pool.query('ANALYZE market_data_cache');
  return summary;
}
