import type pg from 'pg';
import { copyBinary, type BinaryColumn } from '../db/copy.ts';
import { deleteDayKeys } from '../db/day-keys.ts';
import type { QualityFlag } from '../db/schema.ts';
import type { BetaResult, BetaSkip, SkipReason, SpecificResult } from './engine.ts';

/**
 * The factor stage's storage (migration 0010): one row per (date, symbol) in `symbol_day_factors`,
 * per-factor values in arrays subscripted by factor id, the outcome of each factor as a small code,
 * and the symbol's specific volatility. This module is the one place that knows the layout: the
 * writer (binary COPY after a delete of the pairs it replaces) and the decoding of a row for readers.
 */

export const OUTCOME_CODE: Record<QualityFlag | SkipReason, number> = {
  full_history: 1,
  limited_history: 2,
  capped: 3,
  insufficient_observations: -1,
  missing_proxy: -2,
  degenerate_factor: -3,
  degenerate_series: -4,
};

const COLUMNS: readonly BinaryColumn[] = [
  { name: 'calculation_date', type: 'date' },
  { name: 'symbol', type: 'text' },
  { name: 'beta', type: 'float8[]' },
  { name: 'r_squared', type: 'float8[]' },
  { name: 'observations', type: 'int4[]' },
  { name: 'outcome', type: 'int2[]' },
  { name: 'specific_vol', type: 'float8' },
  { name: 'specific_observations', type: 'int4' },
];

/** One day's engine output for some symbols. */
export interface FactorDay {
  date: string;
  results: readonly BetaResult[];
  skips: readonly BetaSkip[];
  specific: readonly SpecificResult[];
}

interface WideRow {
  beta: (number | null)[];
  r2: (number | null)[];
  obs: (number | null)[];
  outcome: (number | null)[];
  specificVol: number | null;
  specificObs: number | null;
}

/** The day's output as wide rows, one per symbol, arrays `width` long (the largest factor id). */
export function wideRows(day: FactorDay, width: number): Map<string, WideRow> {
  const rows = new Map<string, WideRow>();
  const get = (symbol: string): WideRow => {
    let r = rows.get(symbol);
    if (!r) {
      r = {
        beta: new Array<number | null>(width).fill(null),
        r2: new Array<number | null>(width).fill(null),
        obs: new Array<number | null>(width).fill(null),
        outcome: new Array<number | null>(width).fill(null),
        specificVol: null,
        specificObs: null,
      };
      rows.set(symbol, r);
    }
    return r;
  };
  const slot = (id: number): number => {
    if (!Number.isInteger(id) || id < 1 || id > width) throw new Error(`factor id ${id} outside 1..${width}`);
    return id - 1;
  };
  for (const x of day.results) {
    const r = get(x.symbol);
    const i = slot(x.factorId);
    r.beta[i] = x.beta;
    r.r2[i] = x.rSquared;
    r.obs[i] = x.observations;
    r.outcome[i] = OUTCOME_CODE[x.qualityFlag];
  }
  for (const x of day.skips) {
    const r = get(x.symbol);
    const i = slot(x.factorId);
    r.obs[i] = x.observations;
    r.outcome[i] = OUTCOME_CODE[x.reason];
  }
  for (const x of day.specific) {
    const r = get(x.symbol);
    r.specificVol = x.specificVol;
    r.specificObs = x.observations;
  }
  return rows;
}

function* copyTuples(days: readonly FactorDay[], width: number) {
  for (const day of days)
    for (const [symbol, r] of wideRows(day, width)) {
      const any = r.outcome.some((o) => o !== null);
      yield [
        day.date,
        symbol,
        any ? r.beta : null,
        any ? r.r2 : null,
        any ? r.obs : null,
        any ? r.outcome : null,
        r.specificVol,
        r.specificObs,
      ];
    }
}

/**
 * Replaces the rows of the (date, symbol) pairs in `days` in the caller's transaction: one delete of
 * those pairs (on the date-first key), then one binary COPY of their new rows. `width` is the largest
 * factor id of the model. `replaceSymbols`, when given, widens the delete to every pair of those
 * symbols on the days, so that a symbol whose recomputation produced nothing loses its old row too.
 */
export async function saveFactorDays(
  client: pg.ClientBase,
  days: readonly FactorDay[],
  width: number,
  replaceSymbols?: readonly string[],
): Promise<number> {
  const keys = days.map((day) => {
    const seen = new Set<string>(replaceSymbols);
    for (const x of day.results) seen.add(x.symbol);
    for (const x of day.skips) seen.add(x.symbol);
    for (const x of day.specific) seen.add(x.symbol);
    return { date: day.date, keys: [...seen] };
  });
  if (keys.every((k) => k.keys.length === 0)) return 0;
  const sorted = days.map((d) => d.date).sort();
  await client.query('SELECT fu_ensure_factor_partitions($1, $2)', [sorted[0], sorted.at(-1)]);
  await deleteDayKeys(
    client,
    { table: 'symbol_day_factors', dateColumn: 'calculation_date', keyColumn: 'symbol', keyType: 'text' },
    keys,
  );
  let n = 0;
  await copyBinary(client, 'symbol_day_factors', COLUMNS, {
    *[Symbol.iterator]() {
      for (const t of copyTuples(days, width)) {
        n++;
        yield t;
      }
    },
  });
  return n;
}
