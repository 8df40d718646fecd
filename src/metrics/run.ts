import type { Kysely } from 'kysely';
import type pg from 'pg';
import { minusMonths } from '../dates.ts';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { loadModel, volatilityWindowDays, type FactorModel } from '../factors/model.ts';
import { realizedVols } from '../market/volatility.ts';
import { loadCloses, tradingDayOnOrBefore, type ClosesMatrix } from '../market/closes.ts';
import { refreshUniverse } from '../universe.ts';
import { FACTOR_COLUMNS } from './columns.ts';
import { PERIODS, symbolReturns } from './returns.ts';

/** The columns `data_quality_score` counts: price, six returns, five valuation figures, the factors. */
const SCORED = [
  'current_price',
  ...PERIODS,
  'market_cap',
  'enterprise_value',
  'pe_ratio',
  'ps_ratio',
  'pb_ratio',
];

export interface MetricsRunResult {
  requestedDate: string;
  metricDate: string;
  symbols: number;
  written: number;
  timings: { loadMs: number; computeMs: number; writeMs: number };
}

/** One trading day's computed metrics of some symbols, ready to be written. */
export interface MetricsDay {
  date: string;
  symbols: string[];
  currentPrice: (number | null)[];
  returns: Record<(typeof PERIODS)[number], (number | null)[]>;
  realizedVol: (number | null)[];
}

/**
 * Returns and realised volatility of the universe symbols listed on each of `days` (all of them, or
 * those of `only`), from one read of the closes reaching a year before the first day. Pure but for
 * that read and the universe lookup.
 */
export async function computeMetricsBlock(
  pool: pg.Pool,
  model: FactorModel,
  days: readonly string[],
  only?: readonly string[],
  /** Closes already loaded for a range reaching a year before the first day. */
  preloaded?: ClosesMatrix,
): Promise<MetricsDay[]> {
  const first = days[0]!;
  const last = days.at(-1)!;
  const universe = await pool.query<{ symbol: string; first_seen: string; last_seen: string }>(
    `SELECT symbol, first_seen::text, last_seen::text FROM symbol_universe
      WHERE first_seen <= $2 AND last_seen >= $1 AND ($3::text[] IS NULL OR symbol = ANY($3)) ORDER BY symbol`,
    [first, last, only ?? null],
  );
  const m =
    preloaded && preloaded.dates.includes(last) && preloaded.dates[0]! <= minusMonths(first, 12)
      ? preloaded
      : await loadCloses(
          pool,
          model.settings.calendarSymbol,
          minusMonths(first, 12),
          last,
          universe.rows.map((r) => r.symbol),
        );
  const rowOf = new Map(m.symbols.map((s, i) => [s, i]));
  const T = m.dates.length;
  return days.map((date) => {
    const listed = universe.rows.filter(
      (u) => u.first_seen <= date && u.last_seen >= date && rowOf.has(u.symbol),
    );
    const keep = listed.map((u) => rowOf.get(u.symbol)!);
    const closes = new Float64Array(keep.length * T);
    keep.forEach((s, i) => closes.set(m.closes.subarray(s * T, (s + 1) * T), i * T));
    const end = m.dates.indexOf(date);
    const r = symbolReturns(m.dates, keep.length, closes, end);
    const symbols = listed.map((u) => u.symbol);
    const vols = realizedVols({ dates: m.dates, symbols, closes }, end, volatilityWindowDays(model));
    return {
      date,
      symbols,
      currentPrice: r.currentPrice,
      returns: r.returns,
      realizedVol: vols.map((v) => v ?? null),
    };
  });
}

/**
 * Writes one day's `symbol_daily_metrics` in one statement that joins the company profiles and pivots
 * the symbol betas of the day; unchanged rows are not rewritten. Returns the rows written.
 */
export async function saveMetricsDay(
  client: pg.ClientBase,
  model: FactorModel,
  day: MetricsDay,
): Promise<number> {
  const factors = model.factors.filter((f) => (FACTOR_COLUMNS as readonly string[]).includes(f.metricColumn));
  // the day's wide rows (migration 0010): a beta per factor id, null where the factor was skipped
  const pivot = factors.map((f) => `beta[${Number(f.id)}] AS ${f.metricColumn}`).join(', ');
  const factorCols = factors.map((f) => f.metricColumn);
  const columns = [
    ...SCORED,
    'company_name',
    'sector',
    'industry',
    ...factorCols,
    'realized_vol',
    'specific_vol',
  ];
  const scored = [...SCORED, ...factorCols];
  const res = await client.query(
    `WITH x AS (
       SELECT * FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[])
         AS x(symbol, current_price, ${PERIODS.join(', ')}, realized_vol)
     ),
     b AS (SELECT symbol${pivot ? `, ${pivot}` : ''}, specific_vol FROM symbol_day_factors WHERE calculation_date = $1 AND symbol = ANY($2)),
     rows AS (
       SELECT x.symbol, $1::date AS metric_date, x.current_price, ${PERIODS.map((p) => `x.${p}`).join(', ')},
              cp.market_cap, cp.enterprise_value, cp.pe_ratio, cp.ps_ratio, cp.pb_ratio, cp.company_name, cp.sector, cp.industry,
              ${factorCols.map((c) => `b.${c}`).join(', ') || 'NULL'}, x.realized_vol, b.specific_vol
         FROM x LEFT JOIN company_profiles cp ON cp.symbol = x.symbol LEFT JOIN b ON b.symbol = x.symbol
     )
     INSERT INTO symbol_daily_metrics AS m (symbol, metric_date, ${columns.join(', ')}, data_quality_score)
     SELECT rows.*, 100.0 * num_nonnulls(${scored.map((c) => `rows.${c}`).join(', ')}) / ${scored.length} FROM rows
     ON CONFLICT (symbol, metric_date) DO UPDATE SET
       ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, data_quality_score = EXCLUDED.data_quality_score, updated_at = now()
     WHERE (${columns.map((c) => `m.${c}`).join(', ')}, m.data_quality_score)
           IS DISTINCT FROM (${columns.map((c) => `EXCLUDED.${c}`).join(', ')}, EXCLUDED.data_quality_score)`,
    [day.date, day.symbols, day.currentPrice, ...PERIODS.map((p) => day.returns[p]), day.realizedVol],
  );
  return res.rowCount ?? 0;
}

/**
 * `symbol_daily_metrics` of every universe symbol listed on the trading day on or before
 * `requestedDate` (the `metrics run` command): the universe refreshed, one bulk read, one upsert.
 */
export async function runMetrics(
  db: Kysely<Database>,
  pool: pg.Pool,
  requestedDate: string,
  /** Closes already loaded for a range of dates reaching a year before this one. */
  preloaded?: ClosesMatrix,
): Promise<MetricsRunResult> {
  const model = await loadModel(db);
  const date = await tradingDayOnOrBefore(pool, model.settings.calendarSymbol, requestedDate);
  if (!date) throw new Error(`no trading day on or before ${requestedDate}`);
  let t0 = performance.now();
  await withTransaction(pool, refreshUniverse);
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  const [day] = await computeMetricsBlock(pool, model, [date], undefined, preloaded);
  const computeMs = performance.now() - t0;
  t0 = performance.now();
  const written = await withTransaction(pool, (client) => saveMetricsDay(client, model, day!));
  return {
    requestedDate,
    metricDate: date,
    symbols: day!.symbols.length,
    written,
    timings: { loadMs, computeMs, writeMs: performance.now() - t0 },
  };
}
