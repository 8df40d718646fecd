import type pg from 'pg';
import type { DailyBar, CorporateAction } from './providers/types.ts';

/** What the store holds of a symbol's closes: first and last date. */
export interface StoredRange {
  first: string;
  last: string;
}

/** First and last stored date of each symbol, in one query. */
export async function storedRanges(
  pool: pg.Pool,
  symbols: readonly string[],
): Promise<Map<string, StoredRange>> {
  const { rows } = await pool.query<{ symbol: string; first: string; last: string }>(
    `SELECT symbol, min(date)::text AS first, max(date)::text AS last
       FROM market_data_cache WHERE symbol = ANY($1) GROUP BY symbol`,
    [symbols],
  );
  return new Map(rows.map((r) => [r.symbol, { first: r.first, last: r.last }]));
}

/** The stored closes of one symbol in [from, to], by date. */
export async function storedCloses(
  pool: pg.Pool,
  symbol: string,
  from: string,
  to: string,
): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ d: string; close: number }>(
    'SELECT date::text AS d, close FROM market_data_cache WHERE symbol = $1 AND date BETWEEN $2 AND $3',
    [symbol, from, to],
  );
  return new Map(rows.map((r) => [r.d, r.close]));
}

/**
 * Symbols a fetch covers by default: active universe symbols, unpriced option underlyings, the
 * factor proxies, and every symbol an open position holds.
 */
export async function fetchableSymbols(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ symbol: string }>(`
    SELECT symbol FROM symbol_universe WHERE is_active OR first_seen IS NULL
    UNION SELECT long_proxy FROM factor_definitions WHERE is_active
    UNION SELECT short_proxy FROM factor_definitions WHERE is_active AND short_proxy IS NOT NULL
    UNION SELECT DISTINCT symbol FROM positions WHERE exit_date IS NULL AND position_type IN ('LONG', 'SHORT')
    ORDER BY 1`);
  return rows.map((r) => r.symbol);
}

/** A stored close is changed beyond this relative difference (any rescaling shows). */
const RELATIVE = 1e-9;
/**
 * A daily return is changed beyond this absolute difference. Providers round adjusted closes (to
 * ~1e-8 relative), so a rescaled history moves returns by ~1e-8 without changing any beta that
 * matters; a wrongly stored split day moves its return by 0.9, a one-cent restatement by 1e-4.
 */
const RETURN_TOLERANCE = 1e-6;
export const differs = (a: number, b: number) =>
  Math.abs(a - b) > RELATIVE * Math.max(Math.abs(a), Math.abs(b));

/**
 * Where the answer departs from the store: the first date whose close changed, and the first whose
 * daily return (close over the previous answered close) changed. A split or dividend rescales all
 * earlier adjusted closes by one factor, which moves every close but no return; a return moves when
 * a stored close was wrong (e.g. a split day stored unadjusted).
 *
 * Example: stored {d1: 100, d2: 110}, answer {d1: 10, d2: 11} → closes from d1, returns unchanged;
 * stored {d1: 100, d2: 11}, answer {d1: 10, d2: 11} → closes from d1, returns from d2.
 */
export function findRevision(
  stored: ReadonlyMap<string, number>,
  bars: readonly DailyBar[],
): { closesFrom?: string; returnsFrom?: string } {
  let closesFrom: string | undefined;
  let returnsFrom: string | undefined;
  let prev: DailyBar | undefined;
  for (const b of bars) {
    const old = stored.get(b.date);
    if (old !== undefined) {
      if (closesFrom === undefined && differs(old, b.adjClose)) closesFrom = b.date;
      const oldPrev = prev && stored.get(prev.date);
      if (
        returnsFrom === undefined &&
        prev &&
        oldPrev !== undefined &&
        Math.abs(old / oldPrev - b.adjClose / prev.adjClose) > RETURN_TOLERANCE
      )
        returnsFrom = b.date;
    }
    prev = b;
  }
  return { ...(closesFrom ? { closesFrom } : {}), ...(returnsFrom ? { returnsFrom } : {}) };
}

export interface Revision {
  /** First date whose stored close changed. */
  closesFrom: string;
  /** First date whose daily return changed (betas depend on returns only), if any. */
  returnsFrom: string | undefined;
  actions: readonly CorporateAction[];
}

export interface WriteOutcome {
  rows: number;
  betasInvalidated: number;
  /** Metrics rows removed (from the first changed return) for the metrics run to compute again. */
  metricsInvalidated: number;
  /** Metrics rows before it whose shown close was set to the adjusted one in place. */
  metricsRepriced: number;
}

/**
 * Writes one symbol's new and changed bars in one transaction (the caller's), upserting only rows
 * whose values differ, and keeps its `symbol_universe` dates. With a revision (a split or dividend
 * changed its adjusted history) nothing computed from the old closes stays as it was: see
 * `applyRevision`.
 */
export async function writeBars(
  client: pg.ClientBase,
  o: {
    symbol: string;
    provider: string;
    runId: string;
    bars: readonly DailyBar[];
    revision?: Revision;
  },
): Promise<WriteOutcome> {
  const { symbol, bars } = o;
  const col = <T>(f: (b: DailyBar) => T) => bars.map(f);
  const written = await client.query(
    `INSERT INTO market_data_cache AS m (symbol, date, close, unadjusted_close, volume, open, high, low, source)
     SELECT $1, d, c, u, v, op, hi, lo, $2
       FROM unnest($3::date[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
         AS x(d, c, u, v, op, hi, lo)
     ON CONFLICT (symbol, date) DO UPDATE
       SET close = EXCLUDED.close, unadjusted_close = EXCLUDED.unadjusted_close, volume = EXCLUDED.volume,
           open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, source = EXCLUDED.source, updated_at = now()
       WHERE (m.close, m.unadjusted_close, m.volume, m.open, m.high, m.low)
             IS DISTINCT FROM (EXCLUDED.close, EXCLUDED.unadjusted_close, EXCLUDED.volume, EXCLUDED.open, EXCLUDED.high, EXCLUDED.low)`,
    [
      symbol,
      o.provider,
      col((b) => b.date),
      col((b) => b.adjClose),
      col((b) => b.close),
      col((b) => b.volume),
      col((b) => b.open ?? null),
      col((b) => b.high ?? null),
      col((b) => b.low ?? null),
    ],
  );
  if (bars.length > 0) {
    await client.query(
      `INSERT INTO symbol_universe AS u (symbol, first_seen, last_seen) VALUES ($1, $2, $3)
       ON CONFLICT (symbol) DO UPDATE
         SET first_seen = LEAST(u.first_seen, EXCLUDED.first_seen), last_seen = GREATEST(u.last_seen, EXCLUDED.last_seen),
             updated_at = now()
       WHERE u.first_seen IS DISTINCT FROM LEAST(u.first_seen, EXCLUDED.first_seen)
          OR u.last_seen IS DISTINCT FROM GREATEST(u.last_seen, EXCLUDED.last_seen)`,
      [symbol, bars[0]!.date, bars.at(-1)!.date],
    );
  }
  const outcome: WriteOutcome = {
    rows: written.rowCount ?? 0,
    betasInvalidated: 0,
    metricsInvalidated: 0,
    metricsRepriced: 0,
  };
  if (!o.revision) return outcome;
  return applyRevision(client, { ...o, revision: o.revision, rows: outcome.rows });
}

/**
 * The one rule for a revised price history, from any source (a provider's fetch, `import prices`),
 * applied after the closes were written, in the writer's transaction:
 * - from the first changed daily return, the symbol's betas and metrics are removed (every symbol's
 *   when it is a factor proxy), for the factor and metrics runs to compute again;
 * - before that, only closes were rescaled (returns, hence betas, unchanged): the close shown by
 *   the symbol's metrics rows is set to the adjusted one in place;
 * - the revision is recorded in `market_data_revisions` (`rows` = closes replaced).
 */
export async function applyRevision(
  client: pg.ClientBase,
  o: { symbol: string; provider: string; runId: string; rows: number; revision: Revision },
): Promise<WriteOutcome> {
  const { symbol } = o;
  const outcome: WriteOutcome = {
    rows: o.rows,
    betasInvalidated: 0,
    metricsInvalidated: 0,
    metricsRepriced: 0,
  };
  const r = o.revision;
  if (r.returnsFrom) {
    const { rows } = await client.query<{ proxy: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM factor_definitions WHERE $1 IN (long_proxy, short_proxy)) AS proxy',
      [symbol],
    );
    // Every beta regresses on the proxies: a proxy's changed return is every symbol's.
    const everyone = rows[0]?.proxy === true;
    const where = everyone ? 'calculation_date >= $1' : 'calculation_date >= $1 AND symbol = $2';
    const params = everyone ? [r.returnsFrom] : [r.returnsFrom, symbol];
    // The (date, symbol) rows go whole: betas, skips and the specific vol come from the same returns.
    const betas = await client.query<{ n: number }>(
      `WITH d AS (DELETE FROM symbol_day_factors WHERE ${where} RETURNING outcome)
       SELECT coalesce(sum((SELECT count(*) FROM unnest(d.outcome) AS o WHERE o > 0)), 0)::int AS n FROM d`,
      params,
    );
    outcome.betasInvalidated = betas.rows[0]?.n ?? 0;
    // Metrics from the changed return: their returns, realised volatility and betas moved.
    const metrics = await client.query(
      `DELETE FROM symbol_daily_metrics WHERE ${where.replace('calculation_date', 'metric_date')}`,
      params,
    );
    outcome.metricsInvalidated = metrics.rowCount ?? 0;
  }
  // Before it only the close a metrics row shows has moved (a rescaled history leaves every ratio
  // alone): set it in place rather than losing the row.
  const repriced = await client.query(
    `UPDATE symbol_daily_metrics m SET current_price = c.close, updated_at = now()
       FROM market_data_cache c
      WHERE m.symbol = $1 AND c.symbol = $1 AND c.date = m.metric_date AND m.metric_date >= $2
        AND m.current_price IS DISTINCT FROM c.close`,
    [symbol, r.closesFrom],
  );
  outcome.metricsRepriced = repriced.rowCount ?? 0;
  await client.query(
    `INSERT INTO market_data_revisions
       (run_id, provider, symbol, first_changed, rows_replaced, betas_invalidated, metrics_invalidated,
        metrics_repriced, actions)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      o.runId,
      o.provider,
      symbol,
      r.closesFrom,
      outcome.rows,
      outcome.betasInvalidated,
      outcome.metricsInvalidated,
      outcome.metricsRepriced,
      JSON.stringify(r.actions),
    ],
  );
  return outcome;
}

/** Records why symbols could not be fetched, in one statement. */
export async function recordFailures(
  pool: pg.Pool,
  runId: string,
  provider: string,
  kind: 'prices' | 'profiles',
  failures: readonly { symbol: string; reason: string }[],
): Promise<void> {
  if (failures.length === 0) return;
  await pool.query(
    `INSERT INTO market_data_fetch_failures (run_id, provider, kind, symbol, reason)
     SELECT $1, $2, $3, s, r FROM unnest($4::text[], $5::text[]) AS x(s, r)`,
    [runId, provider, kind, failures.map((f) => f.symbol), failures.map((f) => f.reason)],
  );
}
