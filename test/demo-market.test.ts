import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateDemoMarket, RIDGE_PROXIES } from '../src/demo/market.ts';
import { weekday } from '../src/dates.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir } from './helpers/files.ts';

const returns = (closes: Float64Array) => closes.subarray(1).map((c, t) => c / closes[t]! - 1);
const mean = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
function corr(a: Float64Array, b: Float64Array): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('demo market generator', () => {
  const m = generateDemoMarket({ stocks: 60 });
  const series = (s: string) => returns(m.closes[m.symbols.indexOf(s)]!);

  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateDemoMarket({ stocks: 60 });
    assert.deepEqual(again.closes, m.closes);
    assert.deepEqual(again.portfolios, m.portfolios);
    assert.notDeepEqual(generateDemoMarket({ stocks: 60, seed: 7 }).closes[0], m.closes[0]);
  });

  it('spans 3 years of weekdays and has all factor proxies', () => {
    assert.equal(m.dates.length, 757);
    assert.ok(m.dates.every((d) => weekday(d) !== 0 && weekday(d) !== 6));
    for (const s of ['SPY', 'VTV', 'VUG', 'MTUM', 'QUAL', 'IWM', 'USMV', 'TLT'])
      assert.ok(m.symbols.includes(s), s);
  });

  it('gives the proxies realistic volatilities and correlations with SPY', () => {
    const spy = series('SPY');
    const annualVol = (x: Float64Array) => Math.sqrt(mean(x.map((v) => (v - mean(x)) ** 2)) * 252);
    assert.ok(annualVol(spy) > 0.12 && annualVol(spy) < 0.2, `SPY vol ${annualVol(spy)}`);
    for (const s of RIDGE_PROXIES) {
      const c = corr(series(s), spy);
      assert.ok(c > 0.75 && c < 0.99, `${s} corr with SPY ${c}`);
    }
    assert.ok(corr(series('TLT'), spy) < 0, 'bonds hedge equities');
  });

  it('builds each stock from its planted betas: the residual has the planted idiosyncratic volatility', () => {
    const proxies = RIDGE_PROXIES.map(series);
    for (const [i, stock] of m.stocks.entries()) {
      const r = returns(m.closes[m.symbols.indexOf(stock.symbol)]!);
      const resid = r.map(
        (v, t) => v - stock.alpha - proxies.reduce((s, p, j) => s + stock.betas[j]! * p[t]!, 0),
      );
      const sd = Math.sqrt(mean(resid.map((v) => v * v)));
      // 756 draws: the sample sd is within 10% of the true one with overwhelming probability
      assert.ok(
        Math.abs(sd / stock.idioVol - 1) < 0.1,
        `stock ${i}: residual sd ${sd} vs planted ${stock.idioVol}`,
      );
    }
  });

  it('has long/short stock, ETF and option portfolios, with one option already expired', () => {
    const types = new Set(m.portfolios.flatMap((p) => p.positions.map((x) => x.positionType)));
    assert.deepEqual([...types].sort(), ['LC', 'LONG', 'LP', 'SC', 'SHORT', 'SP']);
    const last = m.dates.at(-1)!;
    const options = m.portfolios.flatMap((p) => p.positions).filter((x) => x.expirationDate);
    assert.ok(
      options.some((o) => o.expirationDate! <= last) && options.some((o) => o.expirationDate! > last),
    );
    const universe = new Set(m.symbols);
    assert.ok(
      options.every((o) => universe.has(o.underlyingSymbol!)),
      'options are on symbols in the universe',
    );
  });
});

describe('loading the demo market', () => {
  let t: TestDb;
  before(async () => (t = await createTestDb()));
  after(async () => t.close());

  it('imports prices, companies, the demo user and portfolios through the importers', async () => {
    const r = await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
    assert.deepEqual([r.symbols, r.dates, r.priceRows, r.portfolios], [48, 757, 48 * 757, 3]);
    const q = async (sql: string) => Number((await t.pool.query(sql)).rows[0].n);
    assert.equal(await q('SELECT count(*) AS n FROM market_data_cache'), 48 * 757);
    assert.equal(await q("SELECT count(*) AS n FROM symbol_universe WHERE asset_type = 'etf'"), 8);
    assert.equal(await q('SELECT count(*) AS n FROM company_profiles'), 40);
    // The demo user exists and is not an admin (admins come only from `users create --admin`).
    assert.equal(await q("SELECT count(*) AS n FROM users WHERE username = 'demo' AND NOT is_admin"), 1);
    assert.equal(await q('SELECT count(DISTINCT portfolio_id) AS n FROM positions'), 3);
  });
});
