import { isIsoDate, numberProblem } from '../../imports/fields.ts';
import type { DailyBar } from './types.ts';

/**
 * The file importer's sanity rules (imports/fields.ts: a real date, a positive finite close, a
 * non-negative volume, no repeated day with a different value) applied to a provider's bars.
 * Returns the bars sorted by date with identical repeats dropped, or the problems, each naming
 * the day and the field.
 *
 * Example: [{date: '2024-06-10', close: 0, …}] → problems ['2024-06-10: close must not be zero, got 0'].
 */
export function checkBars(bars: readonly DailyBar[]): { bars: DailyBar[]; problems: string[] } {
  const problems: string[] = [];
  const byDate = new Map<string, DailyBar>();
  for (const b of bars) {
    if (typeof b.date !== 'string' || !isIsoDate(b.date)) {
      problems.push(`unparseable date "${String(b.date)}"`);
      continue;
    }
    const fields: [string, number | null, 'price' | 'nonNegative'][] = [
      ['close', b.close, 'price'],
      ['adjusted close', b.adjClose, 'price'],
      ['volume', b.volume, 'nonNegative'],
    ];
    let bad = false;
    for (const [name, value, kind] of fields) {
      if (value === null && name !== 'adjusted close') continue;
      const problem = typeof value === 'number' ? numberProblem(value, kind) : 'is missing';
      if (problem) {
        problems.push(
          `${b.date}: ${name} ${problem}${typeof value === 'number' && Number.isFinite(value) ? `, got ${value}` : ''}`,
        );
        bad = true;
      }
    }
    if (bad) continue;
    const seen = byDate.get(b.date);
    if (seen && (seen.adjClose !== b.adjClose || seen.close !== b.close || seen.volume !== b.volume))
      problems.push(`${b.date}: two bars with different values`);
    byDate.set(b.date, b);
  }
  const sorted = [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { bars: problems.length ? [] : sorted, problems };
}
