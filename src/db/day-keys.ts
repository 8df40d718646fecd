import type pg from 'pg';

/**
 * Rows keyed by (date, key): a symbol (`symbol_day_factors`, `symbol_daily_metrics`) or a portfolio
 * (the portfolio stage's tables). A writer of several dates deletes exactly the (date, key) pairs it
 * rewrites, in one statement, before its COPY: a key that has no row of a date keeps what is stored
 * for that date (another shard's, another batch's).
 */
export interface KeyedTable {
  /** Table and column names: constants of the calling module, never input. */
  table: string;
  dateColumn: string;
  keyColumn: string;
  keyType: 'text' | 'int4';
}

/** Deletes the rows of each date's keys; returns the number of (date, key) pairs given. */
export async function deleteDayKeys(
  client: pg.ClientBase,
  t: KeyedTable,
  days: readonly { date: string; keys: readonly (string | number)[] }[],
): Promise<number> {
  const dates: string[] = [];
  const keys: (string | number)[] = [];
  for (const d of days)
    for (const k of d.keys) {
      dates.push(d.date);
      keys.push(k);
    }
  if (keys.length === 0) return 0;
  const set = (ks: readonly (string | number)[]) => [...new Set(ks.map(String))].sort().join('\n');
  const first = set(days[0]!.keys);
  if (days.every((d) => set(d.keys) === first))
    // every date has the same keys (the usual case): their cross product is exactly the pairs, so
    // two `= ANY` filters on the tables' date and key indexes, no pair test
    await client.query(
      `DELETE FROM ${t.table} WHERE ${t.dateColumn} = ANY($1::date[]) AND ${t.keyColumn} = ANY($2::${t.keyType}[])`,
      [days.map((d) => d.date), days[0]!.keys],
    );
  else
    // the `= ANY` filters let the planner use the indexes; the pair test keeps the deletion to the pairs
    await client.query(
      `DELETE FROM ${t.table} WHERE ${t.dateColumn} = ANY($1::date[]) AND ${t.keyColumn} = ANY($2::${t.keyType}[])
         AND (${t.dateColumn}, ${t.keyColumn}) IN (SELECT * FROM unnest($1::date[], $2::${t.keyType}[]))`,
      [dates, keys],
    );
  return keys.length;
}
