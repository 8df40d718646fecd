import path from 'node:path';

/**
 * What an import found wrong with its input, located for a person to fix it: the lowest room of
 * `imports/`, which the CSV reader (csv.ts) and the field parsers (fields.ts) both use.
 */

/** A value as shown in a message: at most 40 characters, control characters escaped. */
export function shown(v: string): string {
  const cut = v.length > 40 ? `${v.slice(0, 40)}… (${v.length} characters)` : v;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

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
