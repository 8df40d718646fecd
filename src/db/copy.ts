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
 * `table` and `columns` are names from the code, never from input.
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
