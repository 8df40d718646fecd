import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

type Cell = string | number | boolean | null;

/** One value in COPY text format: NULL as \N; text escaped (backslash, tab, newline, carriage return). */
function cell(v: Cell): string {
  if (v === null) return '\\N';
  if (typeof v !== 'string') return String(v);
  return v.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}

/**
 * Streams rows into `table` with COPY (text format) on the caller's connection and transaction.
 * `table` and `columns` are names from the code, never from input. Kept for small writes and as the
 * baseline `bench:copy` measures the binary path against.
 */
export async function copyRows(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly Cell[])[],
): Promise<void> {
  const chunks: string[] = [];
  for (let i = 0; i < rows.length; i += 4096) {
    chunks.push(
      rows
        .slice(i, i + 4096)
        .map((r) => r.map(cell).join('\t') + '\n')
        .join(''),
    );
  }
  await pipeline(
    Readable.from(chunks),
    client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT text)`)),
  );
}

/** PostgreSQL types the binary encoder writes (the column's own type: COPY BINARY does not cast). */
export type BinaryType =
  'text' | 'jsonb' | 'date' | 'bool' | 'int2' | 'int4' | 'float8' | 'int2[]' | 'int4[]' | 'float8[]';

export type BinaryCell = string | number | boolean | null | readonly (number | null)[];

export interface BinaryColumn {
  name: string;
  type: BinaryType;
}

const ELEMENT: Record<'int2[]' | 'int4[]' | 'float8[]', { oid: number; size: number }> = {
  'int2[]': { oid: 21, size: 2 },
  'int4[]': { oid: 23, size: 4 },
  'float8[]': { oid: 701, size: 8 },
};

const HEADER = Buffer.from([
  ...Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
  ...[0, 0, 0, 0], // flags
  ...[0, 0, 0, 0], // header extension length
]);
const TRAILER = Buffer.from([0xff, 0xff]); // a field count of -1 ends the data
const EPOCH_2000 = Date.UTC(2000, 0, 1);
const CHUNK = 1 << 20;

/** Days since 2000-01-01 of an ISO date (PostgreSQL's binary date), memoised: a block has few dates. */
const dayNumbers = new Map<string, number>();
function dayNumber(iso: string): number {
  let n = dayNumbers.get(iso);
  if (n === undefined) {
    const ms = Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10)));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(iso) || Number.isNaN(ms)) throw new Error(`not an ISO date: ${iso}`);
    n = (ms - EPOCH_2000) / 86_400_000;
    if (dayNumbers.size > 100_000) dayNumbers.clear();
    dayNumbers.set(iso, n);
  }
  return n;
}

/** Appends COPY BINARY tuples to growing buffers, handing out ~1 MB chunks. */
class Encoder {
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 0;
  readonly done: Buffer[] = [];

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    if (this.at > 0) this.done.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.at = 0;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
  }

  tuple(columns: readonly BinaryColumn[], row: readonly BinaryCell[]): void {
    this.room(2);
    this.buf.writeInt16BE(columns.length, this.at);
    this.at += 2;
    for (let c = 0; c < columns.length; c++) this.field(columns[c]!, row[c] ?? null);
  }

  private field(col: BinaryColumn, v: BinaryCell): void {
    if (v === null) {
      this.room(4);
      this.buf.writeInt32BE(-1, this.at);
      this.at += 4;
      return;
    }
    const type = col.type;
    switch (type) {
      case 'text': {
        const s = String(v);
        const len = Buffer.byteLength(s, 'utf8');
        this.room(4 + len);
        this.buf.writeInt32BE(len, this.at);
        this.buf.write(s, this.at + 4, len, 'utf8');
        this.at += 4 + len;
        return;
      }
      case 'jsonb': {
        // jsonb's binary form is a version byte (1) and the JSON text; the server parses the text
        const s = String(v);
        const len = Buffer.byteLength(s, 'utf8');
        this.room(5 + len);
        this.buf.writeInt32BE(len + 1, this.at);
        this.buf[this.at + 4] = 1;
        this.buf.write(s, this.at + 5, len, 'utf8');
        this.at += 5 + len;
        return;
      }
      case 'date':
        this.room(8);
        this.buf.writeInt32BE(4, this.at);
        this.buf.writeInt32BE(dayNumber(String(v)), this.at + 4);
        this.at += 8;
        return;
      case 'bool':
        this.room(5);
        this.buf.writeInt32BE(1, this.at);
        this.buf[this.at + 4] = v ? 1 : 0;
        this.at += 5;
        return;
      case 'int2':
        this.room(6);
        this.buf.writeInt32BE(2, this.at);
        this.buf.writeInt16BE(this.integer(col, v), this.at + 4);
        this.at += 6;
        return;
      case 'int4':
        this.room(8);
        this.buf.writeInt32BE(4, this.at);
        this.buf.writeInt32BE(this.integer(col, v), this.at + 4);
        this.at += 8;
        return;
      case 'float8':
        this.room(12);
        this.buf.writeInt32BE(8, this.at);
        this.buf.writeDoubleBE(Number(v), this.at + 4);
        this.at += 12;
        return;
      default:
        this.array(col, ELEMENT[type], v);
    }
  }

  private integer(col: BinaryColumn, v: BinaryCell): number {
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw new Error(`column ${col.name}: ${String(v)} is not an integer`);
    return v;
  }

  /** A one-dimensional array, lower bound 1; a null element is a length of -1. */
  private array(col: BinaryColumn, el: { oid: number; size: number }, v: BinaryCell): void {
    if (!Array.isArray(v)) throw new Error(`column ${col.name}: expected an array`);
    const a = v as readonly (number | null)[];
    let nulls = 0;
    for (const x of a) if (x === null) nulls++;
    const len = 20 + a.length * 4 + (a.length - nulls) * el.size;
    this.room(4 + len);
    const b = this.buf;
    let o = this.at;
    b.writeInt32BE(len, o);
    b.writeInt32BE(1, o + 4); // dimensions
    b.writeInt32BE(nulls > 0 ? 1 : 0, o + 8);
    b.writeInt32BE(el.oid, o + 12);
    b.writeInt32BE(a.length, o + 16);
    b.writeInt32BE(1, o + 20); // lower bound
    o += 24;
    for (const x of a) {
      if (x === null) {
        b.writeInt32BE(-1, o);
        o += 4;
        continue;
      }
      b.writeInt32BE(el.size, o);
      if (el.size === 8) b.writeDoubleBE(x, o + 4);
      else if (el.size === 4) b.writeInt32BE(x, o + 4);
      else b.writeInt16BE(x, o + 4);
      o += 4 + el.size;
    }
    this.at = o;
  }

  flush(): void {
    if (this.at > 0) this.done.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.at = 0;
  }
}

/** The COPY BINARY stream of `rows`, encoded lazily ~1 MB at a time. */
export function* binaryCopyChunks(
  columns: readonly BinaryColumn[],
  rows: Iterable<readonly BinaryCell[]>,
): Generator<Buffer> {
  const e = new Encoder();
  e.bytes(HEADER);
  for (const row of rows) {
    e.tuple(columns, row);
    if (e.done.length > 0) yield* e.done.splice(0);
  }
  e.bytes(TRAILER);
  e.flush();
  yield* e.done.splice(0);
}

/**
 * Streams rows into `table` with COPY (FORMAT binary) on the caller's connection and transaction:
 * no text to format on our side nor to parse on the server's, doubles written bit for bit.
 * `table` and `columns` are names from the code, never from input.
 */
export async function copyBinary(
  client: pg.ClientBase,
  table: string,
  columns: readonly BinaryColumn[],
  rows: Iterable<readonly BinaryCell[]>,
): Promise<void> {
  await pipeline(
    Readable.from(binaryCopyChunks(columns, rows)),
    client.query(
      copyFrom(`COPY ${table} (${columns.map((c) => c.name).join(', ')}) FROM STDIN (FORMAT binary)`),
    ),
  );
}
