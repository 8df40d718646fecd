/** Calendar arithmetic on ISO dates (`YYYY-MM-DD`), in UTC so no time zone moves a day. */

const MS_PER_DAY = 86_400_000;

export const toDayNumber = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY;
export const fromDayNumber = (day: number): string => new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
export const addDays = (iso: string, days: number): string => fromDayNumber(toDayNumber(iso) + days);

/** 0 = Sunday … 6 = Saturday. */
export const weekday = (iso: string): number => new Date(`${iso}T00:00:00Z`).getUTCDay();

/** The `count` weekdays ending on or before `end`, oldest first. */
export function weekdaysEndingOn(end: string, count: number): string[] {
  const days: string[] = [];
  for (let d = toDayNumber(end); days.length < count; d--) {
    const iso = fromDayNumber(d);
    const wd = weekday(iso);
    if (wd !== 0 && wd !== 6) days.push(iso);
  }
  return days.reverse();
}

/**
 * The same day `months` calendar months earlier, clamped to the month's end (as pandas DateOffset).
 * Example: minusMonths('2024-03-31', 1) → '2024-02-29'; minusMonths('2024-12-31', 12) → '2023-12-31'.
 */
export function minusMonths(iso: string, months: number): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) - months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
}
