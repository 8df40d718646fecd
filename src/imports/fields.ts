import { shown, type ProblemList } from './problems.ts';

/**
 * Field parsers for imports. Each returns the value, or `undefined` after recording a problem
 * that names the line and column; an empty optional field is `null`.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Decimal notation only: an optional sign, digits with an optional fraction, and an optional decimal
 * exponent (the JSON number grammar, plus a leading `+` or `.`). `Number()` alone would also read
 * `0x10` (16), `0b11` (3), `0o17` (15) and `Infinity`, which no price or quantity file means. The
 * exponent stays: pandas, numpy and spreadsheets write small and large floats as `1e-05` or
 * `1.2e+07`, and it is still base ten (METHODOLOGY.md §1 asks only for finite numbers).
 * Examples: `12`, `-3.5`, `.5`, `1.5e2` yes; `0x10`, `1_000`, `1e`, `Infinity`, `NaN` no.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Prices a file may carry: at least a millionth (below that, a return computed from it is noise or
 * an overflow) and at most a billion a share (far above any listed share: BRK-A trades near 7e5).
 */
export const MIN_PRICE = 1e-6;
export const MAX_PRICE = 1e9;
const PRICE_RANGE = '1e-6 to 1e9';

/** Dates a file may carry: PostgreSQL has no year 0000, and no market data predates 1800. */
export const MIN_DATE = '1800-01-01';
export const MAX_DATE = '2999-12-31';

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

export type NumberKind = 'any' | 'positive' | 'nonNegative' | 'nonZero' | 'price';

/**
 * The sanity rule of a number, shared by the file importers and the market data providers (one rule
 * for every source): undefined when `n` passes, else what is wrong with it.
 * Example: numberProblem(0, 'price') → 'must not be zero'; numberProblem(NaN) → 'not a finite number'.
 */
export function numberProblem(n: number, kind: NumberKind = 'any'): string | undefined {
  if (!Number.isFinite(n)) return 'not a finite number';
  return (
    (kind === 'price' &&
      !(n >= MIN_PRICE && n <= MAX_PRICE) &&
      (n <= 0
        ? n === 0
          ? 'must not be zero'
          : 'must be positive'
        : `is outside the accepted price range (${PRICE_RANGE})`)) ||
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
      this.problems.add(this.line, column, `unparseable date "${shown(v)}" (expected YYYY-MM-DD)`);
      return undefined;
    }
    if (v < MIN_DATE || v > MAX_DATE) {
      this.problems.add(this.line, column, `date ${v} is out of range (${MIN_DATE} to ${MAX_DATE})`);
      return undefined;
    }
    return v;
  }

  optionalDate(column: string): string | null | undefined {
    return this.get(column) === '' ? null : this.date(column);
  }

  /**
   * A finite decimal number; `kind` adds a sign rule, or for `price` the range
   * [MIN_PRICE, MAX_PRICE].
   */
  number(column: string, kind: NumberKind = 'any'): number | undefined {
    const v = this.get(column);
    if (v === '') {
      this.problems.add(this.line, column, 'value is missing');
      return undefined;
    }
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n)) {
      this.problems.add(this.line, column, `not a finite number: "${shown(v)}" (decimal notation only)`);
      return undefined;
    }
    const broken = numberProblem(n, kind);
    if (broken) {
      this.problems.add(this.line, column, `${broken}, got "${shown(v)}"`);
      return undefined;
    }
    return n;
  }

  optionalNumber(column: string, kind: Exclude<NumberKind, 'nonZero'> = 'any'): number | null | undefined {
    return this.get(column) === '' ? null : this.number(column, kind);
  }
}
