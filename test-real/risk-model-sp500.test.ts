import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFactors } from '../src/factors/run.ts';
import { importPrices } from '../src/imports/prices.ts';
import { runRiskModel } from '../src/risk/model.ts';
import { createTestDb, type TestDb } from '../test/helpers/db.ts';

const SHARED = path.resolve('..', 'shared');
const D = '2024-12-31';
const FACTOR_PROXIES = ['VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV'];
const PROXIES = ['SPY', ...FACTOR_PROXIES];

/** Solves A x = b by Gaussian elimination with partial pivoting (a second, plain formulation). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

const relGap = (a: number, b: number, scale = Math.abs(b)) => Math.abs(a - b) / Math.max(scale, 1e-300);

describe('risk model against a straightforward per-symbol implementation (S&P 500, 2024-12-31)', () => {
  let t: TestDb;
  /** symbol → date → return on the SPY calendar (C_t / C_prev − 1 when both closes exist). */
  const returns = new Map<string, Map<string, number>>();
  let window: string[] = [];

  before(async () => {
    t = await createTestDb();
    const s = await importPrices(t.pool, path.join(SHARED, 'data', 'sp500', 'prices.csv.gz'));
    assert.equal(s.failures.length, 0);
    assert.equal((await runFactors(t.db, t.pool, { date: D })).failures.length, 0);
    await runRiskModel(t.db, t.pool, { date: D });
    const cal = (
      await t.pool.query(
        "SELECT date::text AS d FROM market_data_cache WHERE symbol = 'SPY' AND date > $1::date - 400 AND date <= $1 ORDER BY date",
        [D],
      )
    ).rows.map((r) => r.d as string);
    const { rows } = await t.pool.query(
      'SELECT symbol, date::text AS d, close FROM market_data_cache WHERE date = ANY($1)',
      [cal],
    );
    const closes = new Map<string, Map<string, number>>();
    for (const r of rows) {
      if (!closes.has(r.symbol)) closes.set(r.symbol, new Map());
      closes.get(r.symbol)!.set(r.d, r.close);
    }
    for (const [sym, c] of closes) {
      const m = new Map<string, number>();
      for (let i = 1; i < cal.length; i++) {
        const a = c.get(cal[i - 1]!);
        const b = c.get(cal[i]!);
        if (a !== undefined && b !== undefined) m.set(cal[i]!, b / a - 1);
      }
      returns.set(sym, m);
    }
    const limit = new Date(Date.parse(`${D}T00:00:00Z`) - 365 * 86400000).toISOString().slice(0, 10);
    window = cal.filter((d) => d > limit);
  });
  after(async () => t.close());

  it('the stored factor and proxy covariances match numpy-style weighted covariances to 1e-9', async () => {
    const stored = (await t.pool.query('SELECT * FROM risk_models WHERE calculation_date = $1', [D])).rows[0];
    for (const [names, flat] of [
      [FACTOR_PROXIES, stored.covariance],
      [PROXIES, stored.proxy_covariance],
    ] as const) {
      const days = window.filter((d) => names.every((p) => returns.get(p)!.has(d)));
      const n = days.length;
      const w = days.map((_, i) => Math.pow(0.5, (n - 1 - i) / 63));
      const sw = w.reduce((a, b) => a + b, 0);
      const mu = names.map((p) => days.reduce((s, d, i) => s + w[i]! * returns.get(p)!.get(d)!, 0) / sw);
      const k = names.length;
      let worst = 0;
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          let c = 0;
          days.forEach((d, i) => {
            c +=
              w[i]! * (returns.get(names[a]!)!.get(d)! - mu[a]!) * (returns.get(names[b]!)!.get(d)! - mu[b]!);
          });
          const expected = (252 * c) / sw;
          const scale = Math.sqrt(Math.abs(flat[a * k + a]) * Math.abs(flat[b * k + b]));
          worst = Math.max(worst, relGap(flat[a * k + b], expected, scale));
        }
      assert.ok(worst <= 1e-9, `largest relative gap ${worst}`);
      if (names === FACTOR_PROXIES) assert.equal(stored.observations, n);
    }
  });

  it("every symbol's specific volatility matches its own ridge regression's residuals to 1e-9", async () => {
    const { rows } = await t.pool.query(
      'SELECT symbol, specific_vol, observations FROM symbol_specific_risk WHERE calculation_date = $1',
      [D],
    );
    assert.ok(rows.length > 500, `${rows.length} symbols`);
    let worst = 0;
    const problems: string[] = [];
    for (const r of rows) {
      const y = returns.get(r.symbol)!;
      const days = window.filter((d) => y.has(d) && FACTOR_PROXIES.every((p) => returns.get(p)!.has(d)));
      const n = days.length;
      if (n !== r.observations) problems.push(`${r.symbol}: ${r.observations} vs ${n} observations`);
      const X = days.map((d) => FACTOR_PROXIES.map((p) => returns.get(p)!.get(d)!));
      const ys = days.map((d) => y.get(d)!);
      const mean = FACTOR_PROXIES.map((_, j) => X.reduce((s, x) => s + x[j]!, 0) / n);
      const sd = FACTOR_PROXIES.map((_, j) =>
        Math.sqrt(X.reduce((s, x) => s + (x[j]! - mean[j]!) ** 2, 0) / n),
      );
      const Z = X.map((x) => x.map((v, j) => (v - mean[j]!) / sd[j]!));
      const ybar = ys.reduce((a, b) => a + b, 0) / n;
      const A = FACTOR_PROXIES.map((_, i) =>
        FACTOR_PROXIES.map((_, j) => Z.reduce((s, z) => s + z[i]! * z[j]!, 0) + (i === j ? 1 : 0)),
      );
      const b = FACTOR_PROXIES.map((_, i) => Z.reduce((s, z, t) => s + z[i]! * (ys[t]! - ybar), 0));
      const wz = solve(A, b);
      let ssr = 0;
      Z.forEach((z, t) => {
        const fit = ybar + z.reduce((s, v, j) => s + v * wz[j]!, 0);
        ssr += (ys[t]! - fit) ** 2;
      });
      const expected = Math.sqrt((252 * ssr) / (n - 1));
      const g = relGap(r.specific_vol, expected);
      worst = Math.max(worst, g);
      if (g > 1e-9) problems.push(`${r.symbol}: ${r.specific_vol} vs ${expected}`);
    }
    assert.deepEqual(problems.slice(0, 10), []);
    assert.ok(worst <= 1e-9, String(worst));
  });
});
