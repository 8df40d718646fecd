import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const created: string[] = [];

/** A scratch folder for input files, removed with everything in it when the test file's process exits. */
export function scratchDir(): string {
  if (created.length === 0)
    process.on('exit', () => {
      for (const dir of created) rmSync(dir, { recursive: true, force: true });
    });
  const dir = mkdtempSync(path.join(tmpdir(), 'fu-files-'));
  created.push(dir);
  return dir;
}

/** Writes `lines` (joined by newlines) to `name` in `dir`; gzips when the name ends in .gz. */
export function writeLines(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  const text = lines.join('\n') + '\n';
  writeFileSync(file, name.endsWith('.gz') ? gzipSync(text) : text);
  return file;
}
