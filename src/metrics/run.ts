import type { Kysely } from 'kysely';
import type pg from 'pg';
import { minusMonths } from '../dates.ts';
import type { Database } from '../db/schema.ts';
import { withTransaction } from '../db/transaction.ts';
import { loadModel, volatilityWindowDays } from '../factors/model.ts';
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

/**
 * `symbol_daily_metrics` for every universe symbol listed on D: one bulk read of the closes, returns
 * computed together, then one upsert that joins the company profiles and pivots the symbol betas of
 * D in SQL, with the specific volatility of D (METHODOLOGY.md 10). Unchanged rows are not rewritten.
 */
export async function runMetrics(
  db: Kysely<Database>,
  pool: pg.Pool,
  requestedDate: string,
  /** Closes already loaded for a range of dates reaching a year before this one (a backfill's). */
  preloaded?: ClosesMatrix,
): Promise<MetricsRunResult> {
  const model = await loadModel(db);
  const date = await tradingDayOnOrBefore(pool, model.settings.calendarSymbol, requestedDate);
  if (!date) throw new Error(`no trading day on or before ${requestedDate}`);
  let t0 = performance.now();
  const universe = await pool.query<{ symbol: string }>(
    'SELECT symbol FROM symbol_universe WHERE first_seen <= $1 AND last_seen >= $1 ORDER BY symbol',
    [date],
  );
  const m =
    preloaded && preloaded.dates.includes(date) && preloaded.dates[0]! <= minusMonths(date, 12)
      ? preloaded
      : await loadCloses(
          pool,
          model.settings.calendarSymbol,
          minusMonths(date, 12),
          date,
          universe.rows.map((r) => r.symbol),
        );
  const end = m.dates.indexOf(date);
  const loadMs = performance.now() - t0;

  t0 = performance.now();
  const wanted = new Set(universe.rows.map((r) => r.symbol));
  const keep = m.symbols.flatMap((s, i) => (wanted.has(s) ? [i] : []));
  const T = m.dates.length;
  const closes = new Float64Array(keep.length * T);
  keep.forEach((s, i) => closes.set(m.closes.subarray(s * T, (s + 1) * T), i * T));
  const r = symbolReturns(m.dates, keep.length, closes, end);
  const symbols = keep.map((i) => m.symbols[i]!);
  const vols = realizedVols({ dates: m.dates, symbols, closes }, end, volatilityWindowDays(model)).map(
    (v) => v ?? null,
  );
  const computeMs = performance.now() - t0;

  t0 = performance.now();
  const factors = model.factors.filter((f) => (FACTOR_COLUMNS as readonly string[]).includes(f.metricColumn));
  const pivot = factors
    .map((f) => `max(beta) FILTER (WHERE factor_id = ${Number(f.id)}) AS ${f.metricColumn}`)
    .join(', ');
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
  const written = await withTransaction(pool, async (client) => {
    await refreshUniverse(client);
    const res = await client.query(
      `WITH x AS (
         SELECT * FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[])
           AS x(symbol, current_price, ${PERIODS.join(', ')}, realized_vol)
       ),
       b AS (SELECT symbol${pivot ? `, ${pivot}` : ''} FROM symbol_factor_exposures WHERE calculation_date = $1 GROUP BY symbol),
       sv AS (SELECT symbol, specific_vol FROM symbol_specific_risk WHERE calculation_date = $1),
       rows AS (
         SELECT x.symbol, $1::date AS metric_date, x.current_price, ${PERIODS.map((p) => `x.${p}`).join(', ')},
                cp.market_cap, cp.enterprise_value, cp.pe_ratio, cp.ps_ratio, cp.pb_ratio, cp.company_name, cp.sector, cp.industry,
                ${factorCols.map((c) => `b.${c}`).join(', ') || 'NULL'}, x.realized_vol, sv.specific_vol
           FROM x LEFT JOIN company_profiles cp ON cp.symbol = x.symbol LEFT JOIN b ON b.symbol = x.symbol
                LEFT JOIN sv ON sv.symbol = x.symbol
       )
       INSERT INTO symbol_daily_metrics AS m (symbol, metric_date, ${columns.join(', ')}, data_quality_score)
       SELECT rows.*, 100.0 * num_nonnulls(${scored.map((c) => `rows.${c}`).join(', ')}) / ${scored.length} FROM rows
       ON CONFLICT (symbol, metric_date) DO UPDATE SET
         ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, data_quality_score = EXCLUDED.data_quality_score, updated_at = now()
       WHERE (${columns.map((c) => `m.${c}`).join(', ')}, m.data_quality_score)
             IS DISTINCT FROM (${columns.map((c) => `EXCLUDED.${c}`).join(', ')}, EXCLUDED.data_quality_score)`,
      [date, symbols, r.currentPrice, ...PERIODS.map((p) => r.returns[p]), vols],
    );
    return res.rowCount ?? 0;
  });
  return {
    requestedDate,
    metricDate: date,
    symbols: symbols.length,
    written,
    timings: { loadMs, computeMs, writeMs: performance.now() - t0 },
  };
}
