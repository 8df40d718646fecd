/**
 * Rows keyed by (date, portfolio): a writer of several dates deletes exactly the (date, portfolio)
 * pairs it rewrites, in one statement, as the one-date writers did date by date (a portfolio that
 * has no row of a date keeps what is stored for that date).
 */

export interface DayKeys {
  dates: string[];
  ids: number[];
}

/** The pairs as two parallel arrays (one query parameter each). */
export function dayKeys(entries: readonly { date: string; ids: readonly number[] }[]): DayKeys {
  const out: DayKeys = { dates: [], ids: [] };
  for (const e of entries)
    for (const id of e.ids) {
      out.dates.push(e.date);
      out.ids.push(id);
    }
  return out;
}

/**
 * The WHERE condition matching the pairs given as parameters $n (dates) and $n+1 (ids). The two
 * `= ANY` filters let the planner use the tables' date and portfolio indexes; the pair test keeps
 * the deletion to exactly the pairs.
 */
export function dayKeysCondition(dateColumn: string, n: number): string {
  return `${dateColumn} = ANY($${n}::date[]) AND portfolio_id = ANY($${n + 1}::int[])
     AND (${dateColumn}, portfolio_id) IN (SELECT * FROM unnest($${n}::date[], $${n + 1}::int[]))`;
}
