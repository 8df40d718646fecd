import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { withTransaction } from '../src/db/transaction.ts';
import { generateDemoMarket } from '../src/demo/market.ts';
import { loadModel, type FactorModel } from '../src/factors/model.ts';
import { FACTOR_COLUMNS } from '../src/metrics/columns.ts';
import { PERIODS } from '../src/metrics/returns.ts';
import { computeMetricsBlock, type MetricsDay } from '../src/metrics/run.ts';
import { loadMetricsJoins, saveMetricsBlock } from '../src/metrics/write.ts';
import { refreshUniverse } from '../src/universe.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { insertCloses } from './helpers/prices.ts';

/**
 * The block writer of `symbol_daily_metrics` (one DELETE of the block's (symbol, date) pairs, one
 * binary COPY) stores the same rows, every column but `updated_at`, as the statement it replaced: the
 * per-day `INSERT … SELECT … LEFT JOIN company_profiles LEFT JOIN symbol_day_factors … ON CONFLICT DO
 * UPDATE`, kept below as the reference. The store is made by hand so that it holds what the joins
 * must carry through: profiles with nulls, text with tabs, newlines and non-ASCII letters, symbols
 * without a profile, betas with null entries, days without betas, a null specific vol, a symbol that
 * stops trading inside the block.
 */

/** The replaced writer, verbatim but for its name: the reference the new rows must equal. */
async function referenceSaveDay(client: pg.ClientBase, model: FactorModel, day: MetricsDay): Promise<void> {
  const SCORED = [
    'current_price',
    ...PERIODS,
    'market_cap',
    'enterprise_value',
    'pe_ratio',
    'ps_ratio',
    'pb_ratio',
  ];
  const factors = model.factors.filter((f) => (FACTOR_COLUMNS as readonly string[]).includes(f.metricColumn));
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
  await client.query(
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
}

describe('symbol_daily_metrics written by block (DELETE + binary COPY)', () => {
  const market = generateDemoMarket({ stocks: 40, days: 300 });
  const T = market.dates.length;
  const block = market.dates.slice(T - 5);
  let t: TestDb;
  let model: FactorModel;
  let computed: MetricsDay[];

  /** Every stored row, every column but updated_at, in key order (jsonb prints doubles exactly). */
  async function stored(): Promise<Record<string, unknown>[]> {
    const { rows } = await t.pool.query<{ r: Record<string, unknown> }>(
      `SELECT to_jsonb(m) - 'updated_at' AS r FROM symbol_daily_metrics m ORDER BY symbol, metric_date`,
    );
    return rows.map((x) => x.r);
  }

  async function writeNew(): Promise<number> {
    const joins = await loadMetricsJoins(t.pool, model, block, [
      ...new Set(computed.flatMap((d) => d.symbols)),
    ]);
    return withTransaction(t.pool, (c) => saveMetricsBlock(c, computed, joins));
  }

  before(async () => {
    t = await createTestDb();
    const rows = market.symbols.flatMap((symbol, s) =>
      market.dates.map((date, i) => ({ symbol, date, close: market.closes[s]![i]! })),
    );
    // GONE stops trading two days before the block's end: it is listed on its first three days only
    market.dates
      .slice(0, T - 2)
      .forEach((date, i) => rows.push({ symbol: 'GONE', date, close: 50 + (i % 7) }));
    await insertCloses(t.pool, rows);
    await withTransaction(t.pool, refreshUniverse);
    model = await loadModel(t.db);
    const symbols = [...market.symbols, 'GONE'].sort();

    // profiles for two symbols in three: every fourth with null valuation figures, odd text
    const profiled = symbols.filter((_, i) => i % 3 !== 2);
    await t.pool.query(
      `INSERT INTO company_profiles (symbol, company_name, sector, industry, market_cap, enterprise_value, pe_ratio, ps_ratio, pb_ratio)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])`,
      [
        profiled,
        profiled.map((s, i) => (i % 5 === 0 ? null : `${s} Société\tnº ${i}\nInc. \\ "x"`)),
        profiled.map((_, i) => (i % 2 ? 'Energy' : 'Health Care')),
        profiled.map((_, i) => (i % 4 === 1 ? null : 'Ünïcode — industry')),
        profiled.map((_, i) => (i % 4 === 0 ? null : 1e9 * (i + 1) + 0.1)),
        profiled.map((_, i) => (i % 4 === 0 ? null : (1.1e9 * (i + 1)) / 3)),
        profiled.map((_, i) => (i % 4 === 0 ? null : 10 + i / 7)),
        profiled.map((_, i) => (i % 4 === 3 ? null : 2 + i / 11)),
        profiled.map((_, i) => -0.5 + i / 13),
      ],
    );

    // betas by hand on every block day but the second: some entries null, some specific vols null
    const maxId = Math.max(...model.factors.map((f) => Number(f.id)));
    const keys: { d: string; s: string; beta: (number | null)[]; vol: number | null }[] = [];
    block.forEach((d, di) => {
      if (di === 1) return;
      symbols.forEach((s, si) => {
        if ((si + di) % 6 === 5) return; // no row at all
        const beta = Array.from({ length: maxId }, (_, j) =>
          (si + j + di) % 9 === 0 ? null : (si - j) / 7 + di / 3,
        );
        keys.push({ d, s, beta, vol: si % 5 === 0 ? null : 0.1 + si / 97 });
      });
    });
    await t.pool.query('SELECT fu_ensure_factor_partitions($1, $2)', [block[0], block.at(-1)]);
    for (const k of keys)
      await t.pool.query(
        `INSERT INTO symbol_day_factors (calculation_date, symbol, beta, specific_vol, specific_observations)
         VALUES ($1, $2, $3::float8[], $4, $5)`,
        [k.d, k.s, k.beta, k.vol, k.vol === null ? null : 250],
      );

    computed = (await computeMetricsBlock(t.pool, model, block, symbols)).days;
  });
  after(async () => t.close());

  it('the block has what the comparison needs: a symbol not listed on some days, every day computed', () => {
    assert.deepEqual(
      computed.map((d) => d.symbols.includes('GONE')),
      [true, true, true, false, false],
    );
    assert.equal(computed.length, 5);
  });

  it('over an empty table, stores the rows the per-day upsert stores', async () => {
    await withTransaction(t.pool, async (c) => {
      for (const day of computed) await referenceSaveDay(c, model, day);
    });
    const reference = await stored();
    assert.equal(
      reference.length,
      computed.reduce((n, d) => n + d.symbols.length, 0),
    );
    await t.pool.query('DELETE FROM symbol_daily_metrics');
    const written = await writeNew();
    assert.equal(written, reference.length);
    assert.deepEqual(await stored(), reference);
  });

  it("replaces exactly the block's pairs: stale rows rewritten, other dates and unlisted days kept", async () => {
    // a stale value in a written pair, a row of a day outside the block, GONE on a day it is unlisted
    await t.pool.query(
      `UPDATE symbol_daily_metrics SET current_price = -1, sector = 'stale' WHERE metric_date = $1`,
      [block[2]],
    );
    await t.pool.query(
      `INSERT INTO symbol_daily_metrics (symbol, metric_date, current_price) VALUES ('GONE', $1, 7), ($2, $3, 8)`,
      [block[4], market.symbols[0], market.dates[T - 6]],
    );
    await withTransaction(t.pool, async (c) => {
      for (const day of computed) await referenceSaveDay(c, model, day);
    });
    const reference = await stored();
    await t.pool.query(
      `UPDATE symbol_daily_metrics SET current_price = -1, sector = 'stale' WHERE metric_date = $1`,
      [block[2]],
    );
    await writeNew();
    assert.deepEqual(await stored(), reference);
    const kept = await t.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM symbol_daily_metrics WHERE (symbol, metric_date, current_price) IN (('GONE', $1::date, 7), ($2, $3::date, 8))`,
      [block[4], market.symbols[0], market.dates[T - 6]],
    );
    assert.equal(kept.rows[0]!.n, 2);
  });

  it(
    'listeners of fu_metrics_changed hear the block dates once the write commits',
    { timeout: 60_000 },
    async () => {
      const listener = await t.pool.connect();
      const heard: string[] = [];
      listener.on('notification', (n) => {
        if (n.channel === 'fu_metrics_changed') heard.push(n.payload ?? '');
      });
      try {
        await listener.query('LISTEN fu_metrics_changed');
        // delivery to another connection is asynchronous: wait for the message (or the test's timeout)
        const next = async (n: number) => {
          while (heard.length < n) await new Promise((r) => setTimeout(r, 20));
        };
        // over an emptied table the DELETE removes nothing (no message): the COPY's trigger speaks
        await t.pool.query('DELETE FROM symbol_daily_metrics');
        await next(1); // the emptying's own message
        heard.length = 0;
        await writeNew();
        await next(1);
        // over the stored block both statements name the block's dates; PostgreSQL folds identical
        // messages of one transaction into one
        await writeNew();
        await next(2);
        assert.deepEqual(heard, [block.join(','), block.join(',')]);
      } finally {
        await listener.query('UNLISTEN *');
        listener.release();
      }
    },
  );
});
