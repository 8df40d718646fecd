import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** A scratch folder for input files; the OS cleans tmp. */
export const scratchDir = (): string => mkdtempSync(path.join(tmpdir(), 'fu-files-'));

/** Writes `lines` (joined by newlines) to `name` in `dir`; gzips when the name ends in .gz. */
export function writeLines(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  const text = lines.join('\n') + '\n';
  writeFileSync(file, name.endsWith('.gz') ? gzipSync(text) : text);
  return file;
}
