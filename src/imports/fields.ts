import type { ProblemList } from './csv.ts';

/**
 * Field parsers for imports. Each returns the value, or `undefined` after recording a problem
 * that names the line and column; an empty optional field is `null`.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True for a real calendar date written `YYYY-MM-DD` (2024-02-29 yes, 2023-02-29 no). */
export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > (DAYS_IN_MONTH[mo - 1] ?? 0)) return false;
  return mo !== 2 || d < 29 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0));
}

export type NumberKind = 'any' | 'positive' | 'nonNegative' | 'nonZero';

/**
 * The sanity rule of a number field, shared by the file importers and the market data providers
 * (one rule for every source): undefined when `n` passes, else what is wrong with it.
 * Example: numberProblem(0, 'positive') → 'must not be zero'; numberProblem(NaN, 'any') → 'not a finite number'.
 */
export function numberProblem(n: number, kind: NumberKind = 'any'): string | undefined {
  if (!Number.isFinite(n)) return 'not a finite number';
  return (
    (kind === 'positive' && n <= 0 && (n === 0 ? 'must not be zero' : 'must be positive')) ||
    (kind === 'nonNegative' && n < 0 && 'must not be negative') ||
    (kind === 'nonZero' && n === 0 && 'must not be zero') ||
    undefined
  );
}

export class FieldReader {
  constructor(
    readonly problems: ProblemList,
    private readonly get: (column: string) => string,
    readonly line: number,
  ) {}

  raw(column: string): string {
    return this.get(column);
  }

  /** A non-empty text field. */
  text(column: string, label = column): string | undefined {
    const v = this.get(column);
    if (v === '') {
      this.problems.add(this.line, column, `${label} is missing`);
      return undefined;
    }
    return v;
  }

  optionalText(column: string): string | null {
    const v = this.get(column);
    return v === '' ? null : v;
  }

  date(column: string): string | undefined {
    const v = this.get(column);
    if (v === '') {
      this.problems.add(this.line, column, 'date is missing');
      return undefined;
    }
    if (!isIsoDate(v)) {
      this.problems.add(this.line, column, `unparseable date "${v}" (expected YYYY-MM-DD)`);
      return undefined;
    }
    return v;
  }

  optionalDate(column: string): string | null | undefined {
    return this.get(column) === '' ? null : this.date(column);
  }

  /** A finite number; `kind` adds a sign rule. */
  number(column: string, kind: NumberKind = 'any'): number | undefined {
    const v = this.get(column);
    if (v === '') {
      this.problems.add(this.line, column, 'value is missing');
      return undefined;
    }
    const n = Number(v);
    const broken = numberProblem(n, kind);
    if (broken) {
      this.problems.add(
        this.line,
        column,
        Number.isFinite(n) ? `${broken}, got "${v}"` : `${broken}: "${v}"`,
      );
      return undefined;
    }
    return n;
  }

  optionalNumber(
    column: string,
    kind: 'any' | 'positive' | 'nonNegative' = 'any',
  ): number | null | undefined {
    return this.get(column) === '' ? null : this.number(column, kind);
  }
}
