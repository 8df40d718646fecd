import assert from 'node:assert/strict';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { ServedDates } from '../src/metrics/served-dates.ts';
import { runPipeline } from '../src/pipeline/submit.ts';
import { whatIf } from '../src/portfolios/run.ts';
import { openPositions } from '../src/portfolios/store.ts';
import { DayPanelCache } from '../src/risk/panel-cache.ts';
import { DEFAULT_RISK_SETTINGS } from '../src/risk/report.ts';
import { loadStoredRiskDay } from '../src/risk/store.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

/**
 * What-if's risk of a book equals the report the portfolio stage stored for the same positions,
 * equity and date, to 1e-12: the two paths read the day's return panel and inputs differently (the
 * stage once for all portfolios, what-if for one book) and must not differ by more than rounding.
 * Every number of the risk report, VaR, the hedges and each stress scenario is compared; NaN and
 * null are the same (the stored JSON has no NaN). What-if is asked twice: reading the book's own
 * panel, and from the server's in-memory panel of every symbol (`DayPanelCache`, kept across books).
 */
const D = '2026-10-30';
let t: TestDb;

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  await runPipeline(t, { ...loadConfig({}), dualWrite: false }, { from: D, to: D, kind: 'run' });
});
after(async () => t?.close());

/** Walks both values; numbers within 1e-12 (relative above 1), the rest equal. Returns the differences. */
function differences(a: unknown, b: unknown, at = '', out: string[] = []): string[] {
  const blank = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
  if (blank(a) && blank(b)) return out;
  if (typeof a === 'number' && typeof b === 'number') {
    if (!(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)))) out.push(`${at}: ${a} vs ${b}`);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${at}: ${a.length} items vs ${b.length}`);
    else a.forEach((x, i) => differences(x, b[i], `${at}[${i}]`, out));
    return out;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys)
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`, out);
    return out;
  }
  if (a !== b) out.push(`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  return out;
}

describe("what-if's risk equals the stored portfolio report", () => {
  it('for every demo portfolio on the day: risk, VaR, hedges and stress to 1e-12', async () => {
    const { rows } = await t.pool.query<{ id: number }>(
      'SELECT DISTINCT portfolio_id AS id FROM portfolio_risk WHERE calculation_date = $1 ORDER BY 1',
      [D],
    );
    assert.ok(rows.length > 0, 'the stage stored reports');
    const panels = new DayPanelCache(2, () => true);
    for (const [{ id }, cached] of rows.flatMap((row) => [false, true].map((c) => [row, c] as const))) {
      const stored = (await loadStoredRiskDay(t.pool, id, D))!;
      const positions = await openPositions(t.db, D, [id]);
      const r = cached
        ? await whatIf(
            t.db,
            t.pool,
            positions,
            D,
            stored.risk.equity,
            'symbol',
            DEFAULT_RISK_SETTINGS,
            panels,
          )
        : await whatIf(t.db, t.pool, positions, D, stored.risk.equity);
      assert.ok(r.risk, `what-if formed a risk report for portfolio ${id}`);
      const byName = <T extends { scenario: string }>(xs: readonly T[]) =>
        [...xs].sort((x, y) => x.scenario.localeCompare(y.scenario));
      const diff = differences(
        { risk: r.risk.risk, var: r.risk.var, hedges: r.risk.hedges, stress: byName(r.risk.stress) },
        { risk: stored.risk, var: stored.var, hedges: stored.hedges, stress: byName(stored.stress) },
      );
      assert.deepEqual(diff, [], `portfolio ${id}${cached ? ', panel from memory' : ''}`);
      assert.ok(r.risk.risk.total_risk > 0 && r.risk.risk.positions.length > 0);
    }
    assert.deepEqual(panels.held, [D], 'one panel of every symbol, read once for all the books');
  });

  it("drops what-if's panel of a date when the database notifies a change of it (the server's wiring)", async () => {
    const served = new ServedDates(t.pool, {
      maxDates: 2,
      listener: () => new pg.Client({ connectionString: t.url }),
    });
    const panels = new DayPanelCache(2, () => served.live);
    served.onDrop((payload) => panels.drop(payload));
    await served.start();
    try {
      const { rows } = await t.pool.query<{ id: number }>(
        'SELECT min(portfolio_id) AS id FROM portfolio_risk WHERE calculation_date = $1',
        [D],
      );
      const positions = await openPositions(t.db, D, [rows[0]!.id]);
      assert.ok(positions.length > 0);
      await whatIf(t.db, t.pool, positions, D, 1e6, 'symbol', DEFAULT_RISK_SETTINGS, panels);
      assert.deepEqual(panels.held, [D]);
      // a committed statement on the day's metrics (what a pipeline run writes) notifies fu_metrics_changed
      await t.pool.query('UPDATE symbol_daily_metrics SET metric_date = metric_date WHERE metric_date = $1', [
        D,
      ]);
      for (let i = 0; i < 100 && panels.held.length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(panels.held, []);
      await whatIf(t.db, t.pool, positions, D, 1e6, 'symbol', DEFAULT_RISK_SETTINGS, panels);
      assert.deepEqual(panels.held, [D], 'the next request reads the date again');
    } finally {
      await served.stop();
    }
  });
});
