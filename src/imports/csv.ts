import { createReadStream } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { shown } from './fields.ts';

/** One problem in an input file, located for a person to fix it. */
export interface InputProblem {
  line: number;
  column?: string;
  message: string;
}

/** Raised when a file is rejected; nothing of the file has been written. */
export class ImportError extends Error {
  constructor(
    readonly file: string,
    readonly problems: InputProblem[],
    readonly truncated = false,
    /** what did not happen, said after "rejected" (a what-if imports nothing in any case) */
    outcome = 'nothing imported',
  ) {
    const shown = problems.map((p) => `  ${formatProblem(file, p)}`).join('\n');
    super(
      `${path.basename(file)}: rejected, ${outcome}\n${shown}${truncated ? '\n  (more problems not shown)' : ''}`,
    );
    this.name = 'ImportError';
  }
}

export function formatProblem(file: string, p: InputProblem): string {
  const where = `${file}:${p.line}`;
  return p.column ? `${where}: column "${p.column}": ${p.message}` : `${where}: ${p.message}`;
}

/** Collects problems of one file, up to a limit, then stops the read. */
export class ProblemList {
  readonly problems: InputProblem[] = [];
  truncated = false;
  constructor(
    readonly file: string,
    private readonly limit = 20,
  ) {}
  add(line: number, column: string | undefined, message: string): void {
    if (this.problems.length >= this.limit) {
      this.truncated = true;
      return;
    }
    this.problems.push(column === undefined ? { line, message } : { line, column, message });
  }
  get full(): boolean {
    return this.truncated;
  }
  throwIfAny(outcome?: string): void {
    if (this.problems.length > 0) {
      const sorted = [...this.problems].sort((a, b) => a.line - b.line);
      throw new ImportError(this.file, sorted, this.truncated, outcome);
    }
  }
}

/**
 * Splits one CSV record (RFC 4180 quoting; a field may not span lines).
 * Example: `a,"b,c",""""` → `['a', 'b,c', '"']`.
 */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
      if (i >= line.length) return fields;
      if (line[i] !== ',') throw new Error(`unexpected character after a quoted field at position ${i + 1}`);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** Longest line an input file may have; real rows are a few hundred characters at most. */
export const MAX_LINE_LENGTH = 65_536;

/** A file that cannot be read as lines: where (1-based line) and why. The line itself is never shown. */
export class UnreadableLine extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'UnreadableLine';
  }
}

/** zlib's errors carry codes such as Z_BUF_ERROR (unexpected end of file) and Z_DATA_ERROR. */
function isZlibError(e: unknown): e is Error {
  const code: unknown = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * Calls `onLine` for each line of a `.csv` or `.csv.gz` file with its 1-based line number
 * (a callback, not an async iterator: a million lines must not cost a million promises).
 * Blank lines are skipped; a trailing `\r` is dropped. Returning `false` stops the read.
 * Throws `UnreadableLine` for a line longer than `maxLineLength` (found without holding more than
 * that much of it, even when it never ends) and for gzip data that is truncated or corrupt.
 */
export async function forEachLine(
  file: string,
  onLine: (line: string, lineNo: number) => boolean | void,
  maxLineLength = MAX_LINE_LENGTH,
): Promise<void> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 0;
  let stopped = false;
  const tooLong = (line: number, length: string): UnreadableLine =>
    new UnreadableLine(
      line,
      `line ${line} is ${length} characters long, more than the ${maxLineLength} allowed (not shown)`,
    );
  const emit = (text: string): void => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) {
        carry = text.slice(start);
        if (carry.length > maxLineLength) throw tooLong(lineNo + 1, `over ${maxLineLength}`);
        return;
      }
      lineNo++;
      let end = nl;
      if (end > start && text.charCodeAt(end - 1) === 13) end--;
      if (end - start > maxLineLength) throw tooLong(lineNo, String(end - start));
      if (end > start && onLine(text.slice(start, end), lineNo) === false) {
        stopped = true;
        return;
      }
      start = nl + 1;
    }
  };
  try {
    for await (const chunk of input) {
      emit(carry + decoder.write(chunk as Buffer));
      if (stopped) return;
    }
    const rest = carry + decoder.end();
    if (rest.length > 0) emit(rest + '\n');
  } catch (e) {
    if (isZlibError(e)) {
      throw new UnreadableLine(
        lineNo + 1,
        `truncated or corrupt gzip data after line ${lineNo} (${e.message}): the file is not a complete .gz`,
      );
    }
    throw e;
  } finally {
    raw.destroy();
    if (input !== raw) input.destroy();
  }
}

/**
 * Reads a CSV with a header row and hands each record to `onRecord` as a column→value lookup.
 * Checks that the required columns exist; column names are matched case-insensitively and trimmed.
 */
export async function readCsvRecords(
  file: string,
  required: readonly string[],
  problems: ProblemList,
  onRecord: (get: (column: string) => string, lineNo: number, header: readonly string[]) => void,
): Promise<readonly string[]> {
  let header: string[] | undefined;
  let index = new Map<string, number>();
  let fields: string[] = [];
  const get = (column: string): string => {
    const i = index.get(column);
    return i === undefined ? '' : (fields[i] ?? '').trim();
  };
  const read = forEachLine(file, (line, lineNo) => {
    if (problems.full) return false;
    if (line.includes('\0')) {
      problems.add(lineNo, undefined, 'the line contains a NUL byte (binary data, not CSV text)');
      return header !== undefined;
    }
    let parsed: string[];
    try {
      parsed = splitCsvLine(line);
    } catch (e) {
      problems.add(lineNo, undefined, `malformed CSV: ${(e as Error).message}`);
      return;
    }
    if (!header) {
      header = parsed.map((h) =>
        h
          .trim()
          .toLowerCase()
          .replace(/^\ufeff/, ''),
      );
      index = new Map(header.map((h, i) => [h, i]));
      const repeated = [...new Set(header.filter((h, i) => header!.indexOf(h) !== i))];
      if (repeated.length > 0) {
        problems.add(
          lineNo,
          undefined,
          `${repeated.map((h) => `"${shown(h)}"`).join(', ')} appears more than once in the header (column names are case-insensitive)`,
        );
        return false;
      }
      const missing = required.filter((c) => !index.has(c));
      if (missing.length > 0) {
        problems.add(
          lineNo,
          undefined,
          `header lacks required column(s) ${missing.join(', ')} (found: ${shown(header.join(', '))})`,
        );
        return false;
      }
      return;
    }
    if (parsed.length !== header.length) {
      problems.add(lineNo, undefined, `expected ${header.length} fields, found ${parsed.length}`);
      return;
    }
    fields = parsed;
    onRecord(get, lineNo, header);
  });
  try {
    await read;
  } catch (e) {
    if (!(e instanceof UnreadableLine)) throw e;
    problems.add(e.line, undefined, e.message);
  }
  if (!header && problems.problems.length === 0)
    problems.add(1, undefined, 'the file is empty (no header row)');
  return header ?? [];
}
