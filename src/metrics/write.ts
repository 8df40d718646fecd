import type pg from 'pg';
import { copyBinary, type BinaryCell, type BinaryColumn } from '../db/copy.ts';
import { deleteDayKeys } from '../db/day-keys.ts';
import type { FactorModel } from '../factors/model.ts';
import { FACTOR_COLUMNS } from './columns.ts';
import { PERIODS } from './returns.ts';
import type { MetricsDay } from './run.ts';

/**
 * The write of `symbol_daily_metrics` (issue 18): a block's rows for all its days replace the stored
 * rows of the same (symbol, date) pairs, by one DELETE and one binary COPY in the caller's
 * transaction. The columns the metrics do not compute (company profile, betas, specific vol) are read
 * beforehand, one query per table for the whole block, by `loadMetricsJoins`.
 *
 * Why COPY with the joins done here: on the 2024 backfill (bench:batch, one run, dual-write off, 12
 * blocks of 21 days × 558 symbols, sums over the blocks) the previous per-day `INSERT … ON CONFLICT
 * DO UPDATE … WHERE IS DISTINCT FROM` wrote in 3.9 s (load 2.5); one DELETE and one block-wide
 * `INSERT … SELECT` joining profiles and betas in SQL (no ON CONFLICT) in 5.0 s (load 1.6); the
 * DELETE and COPY in 1.9 s plus 0.9 s for the read below (load 2.1). A recompute rewrites its rows
 * (and moves `updated_at`) even when nothing changed, where the upsert skipped equal rows.
 */

/** The valuation and profile columns copied from `company_profiles`, in table order. */
const PROFILE = [
  'market_cap',
  'enterprise_value',
  'pe_ratio',
  'ps_ratio',
  'pb_ratio',
  'company_name',
  'sector',
  'industry',
] as const;

/** PROFILE's first five columns are the valuation figures (scored), the last three text. */
const VALUATION = 5;

/** What a block's rows take from other tables, read once per block. */
export interface MetricsJoins {
  /** The model's factors that have a metrics column, in model order: (column, id in `beta[]`). */
  factors: { column: string; id: number }[];
  /** By symbol: the PROFILE columns. */
  profiles: Map<string, (number | string | null)[]>;
  /** By `date|symbol`: the factor columns' betas, then the specific vol. */
  betas: Map<string, (number | null)[]>;
  /**
   * `data_quality_score` by count of non-null scored columns: 100 × k / n as PostgreSQL's numeric
   * arithmetic rounds it, cast to float8, which is what the SQL writer stored; asked of the server
   * rather than recomputed in doubles, so that no last digit can differ.
   */
  scores: number[];
}

/** The model's factors that copy their beta to a `symbol_daily_metrics` column. */
function metricFactors(model: FactorModel): { column: string; id: number }[] {
  return model.factors
    .filter((f) => (FACTOR_COLUMNS as readonly string[]).includes(f.metricColumn))
    .map((f) => ({ column: f.metricColumn, id: Number(f.id) }));
}

/**
 * The company profiles of `symbols` and their betas and specific vols on `days`: one query per table
 * for the block (not one per symbol nor per day).
 */
export async function loadMetricsJoins(
  pool: pg.Pool,
  model: FactorModel,
  days: readonly string[],
  symbols: readonly string[],
): Promise<MetricsJoins> {
  const factors = metricFactors(model);
  // price, six returns, five valuation figures, the factors
  const scored = 1 + PERIODS.length + VALUATION + factors.length;
  const first = days[0]!;
  const [profiles, betas, scores] = await Promise.all([
    pool.query<Record<string, number | string | null>>(
      `SELECT symbol, ${PROFILE.join(', ')} FROM company_profiles WHERE symbol = ANY($1)`,
      [symbols],
    ),
    // One row of bytes per symbol: for each of its days, the day (int4, days after `first`) then, per
    // factor column and the specific vol, a null flag byte and the float8. Measured on the 2024
    // backfill's blocks (21 days × 558 symbols): ~50 ms, against ~70 ms for a row per (day, symbol)
    // with a column per value and ~220 ms for a float8[] per row (the driver parses every value).
    pool.query<{ symbol: string; b: Buffer }>(
      `SELECT symbol, string_agg(int4send(calculation_date - $1::date) || ${[
        ...factors.map((f) => `beta[${f.id}]`),
        'specific_vol',
      ]
        .map(
          (v) =>
            `CASE WHEN ${v} IS NULL THEN '\\x000000000000000000'::bytea ELSE '\\x01'::bytea || float8send(${v}) END`,
        )
        .join(' || ')}, ''::bytea) AS b
         FROM symbol_day_factors
        WHERE calculation_date BETWEEN $1 AND $2 AND symbol = ANY($3)
        GROUP BY symbol`,
      [first, days.at(-1), symbols],
    ),
    pool.query<{ s: number }>(
      `SELECT (100.0 * k / $1::int)::float8 AS s FROM generate_series(0, $1::int) AS k ORDER BY k`,
      [scored],
    ),
  ]);
  const dayOf = new Map(days.map((d) => [(Date.parse(d) - Date.parse(first)) / 86_400_000, d]));
  const cells = factors.length + 1;
  const betaMap = new Map<string, (number | null)[]>();
  for (const r of betas.rows) {
    const b = r.b;
    for (let o = 0; o < b.length;) {
      const date = dayOf.get(b.readInt32BE(o));
      o += 4;
      const values: (number | null)[] = [];
      for (let c = 0; c < cells; c++, o += 9) values.push(b[o] === 1 ? b.readDoubleBE(o + 1) : null);
      if (date !== undefined) betaMap.set(`${date}|${r.symbol}`, values);
    }
  }
  return {
    factors,
    profiles: new Map(profiles.rows.map((r) => [String(r.symbol), PROFILE.map((c) => r[c] ?? null)])),
    betas: betaMap,
    scores: scores.rows.map((r) => r.s),
  };
}

/** The table's columns the writer fills, in the order of `rows` below (updated_at takes its default). */
function columns(joins: MetricsJoins): BinaryColumn[] {
  return [
    { name: 'symbol', type: 'text' },
    { name: 'metric_date', type: 'date' },
    { name: 'current_price', type: 'float8' },
    ...PERIODS.map((p) => ({ name: p, type: 'float8' as const })),
    ...PROFILE.map((c, i) => ({ name: c, type: i < VALUATION ? ('float8' as const) : ('text' as const) })),
    ...joins.factors.map((f) => ({ name: f.column, type: 'float8' as const })),
    { name: 'realized_vol', type: 'float8' },
    { name: 'specific_vol', type: 'float8' },
    { name: 'data_quality_score', type: 'float8' },
  ];
}

/** The block's rows, day by day, built as they are encoded (a year's block is never all in memory twice). */
function* rows(days: readonly MetricsDay[], joins: MetricsJoins): Generator<BinaryCell[]> {
  const k = joins.factors.length;
  const noProfile: (number | string | null)[] = PROFILE.map(() => null);
  const noBetas: (number | null)[] = new Array<null>(k + 1).fill(null);
  for (const day of days) {
    for (let i = 0; i < day.symbols.length; i++) {
      const symbol = day.symbols[i]!;
      const profile = joins.profiles.get(symbol) ?? noProfile;
      const b = joins.betas.get(`${day.date}|${symbol}`) ?? noBetas;
      const price = day.currentPrice[i] ?? null;
      const returns = PERIODS.map((p) => day.returns[p][i] ?? null);
      const betas = b.slice(0, k);
      let n = price === null ? 0 : 1;
      for (const x of returns) if (x !== null) n++;
      for (let c = 0; c < VALUATION; c++) if (profile[c] !== null) n++;
      for (const x of betas) if (x !== null) n++;
      yield [
        symbol,
        day.date,
        price,
        ...returns,
        ...profile,
        ...betas,
        day.realizedVol[i] ?? null,
        b[k] ?? null,
        joins.scores[n]!,
      ];
    }
  }
}

/**
 * Replaces the stored rows of the block's (symbol, date) pairs with the computed ones, in the caller's
 * transaction: one DELETE of exactly those pairs (rows of other shards and of symbols not listed on a
 * day stay), one binary COPY. Both statements fire the statement-level NOTIFY triggers of migration
 * 0025 with their dates. Returns the rows written. A factor column the model does not name is left
 * null in the new rows (the upsert left such a column as it was); the seeded model names all eleven.
 */
export async function saveMetricsBlock(
  client: pg.ClientBase,
  days: readonly MetricsDay[],
  joins: MetricsJoins,
): Promise<number> {
  const pairs = await deleteDayKeys(
    client,
    { table: 'symbol_daily_metrics', dateColumn: 'metric_date', keyColumn: 'symbol', keyType: 'text' },
    days.map((d) => ({ date: d.date, keys: d.symbols })),
  );
  if (pairs === 0) return 0;
  await copyBinary(client, 'symbol_daily_metrics', columns(joins), rows(days, joins));
  return pairs;
}
