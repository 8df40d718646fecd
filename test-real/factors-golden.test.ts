import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFactors } from '../src/factors/run.ts';
import { importPrices } from '../src/imports/prices.ts';
import { writeLegacyExposures } from '../src/legacy/position-exposures.ts';
import { createTestDb, type TestDb } from '../test/helpers/db.ts';

const SHARED = path.resolve('..', 'shared');
const GOLDEN = path.join(SHARED, 'fixtures', 'golden', 'factors-2024-12-31.csv');

/** The fixtures' measure of a difference: relative, or absolute where |expected| < 1e-6. */
const gap = (actual: number, expected: number) =>
  Math.abs(expected) < 1e-6 ? Math.abs(actual - expected) : Math.abs(actual - expected) / Math.abs(expected);
/** Agreement rule of the fixtures: a gap of at most 1e-8. */
const agrees = (actual: number, expected: number) => gap(actual, expected) <= 1e-8;

/** Rows of the fixtures: symbol, factor, beta, R² (empty = none), observations, quality flag. */
const readGolden = (): string[][] =>
  readFileSync(GOLDEN, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));

interface StoredBeta {
  symbol: string;
  name: string;
  beta: number;
  r_squared: number | null;
  observations: number;
  quality_flag: string;
}

/**
 * Holds stored rows to the golden rows (of the symbols in `only`, all when omitted): every
 * disagreement, every row on one side only, and the largest gap of a beta or R².
 */
function checkAgainstGolden(golden: string[][], stored: StoredBeta[], only?: Set<string>) {
  const ours = new Map(stored.map((r) => [`${r.symbol}|${r.name}`, r]));
  const problems: string[] = [];
  let worst = 0;
  for (const [symbol, factor, beta, r2, obs, flag] of golden) {
    if (only && !only.has(symbol!)) continue;
    const key = `${symbol}|${factor}`;
    const r = ours.get(key);
    ours.delete(key);
    if (!r) {
      problems.push(`${key}: missing`);
      continue;
    }
    worst = Math.max(
      worst,
      gap(r.beta, Number(beta)),
      r2 && r.r_squared !== null ? gap(r.r_squared, Number(r2)) : 0,
    );
    if (!agrees(r.beta, Number(beta))) problems.push(`${key}: beta ${r.beta} vs ${beta}`);
    if (r2 === '' ? r.r_squared !== null : r.r_squared === null || !agrees(r.r_squared, Number(r2))) {
      problems.push(`${key}: R² ${r.r_squared} vs ${r2}`);
    }
    if (r.observations !== Number(obs)) problems.push(`${key}: observations ${r.observations} vs ${obs}`);
    if (r.quality_flag !== flag) problems.push(`${key}: flag ${r.quality_flag} vs ${flag}`);
  }
  for (const key of ours.keys()) problems.push(`${key}: not in the fixtures`);
  return { problems, worst };
}

describe('factor engine against the golden fixtures (S&P 500, 2024-12-31)', () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
    const s = await importPrices(t.pool, path.join(SHARED, 'data', 'sp500', 'prices.csv.gz'));
    assert.equal(s.failures.length, 0);
  });
  after(async () => t.close());

  it('matches every golden row: betas and R² to 1e-8, observations and flags exactly, same set of rows', async (tc) => {
    const run = await runFactors(t.db, t.pool, { date: '2024-12-31' });
    assert.equal(run.failures.length, 0);
    const golden = readGolden();
    const { rows } = await t.pool.query<StoredBeta>(
      `SELECT e.symbol, f.name, e.beta, e.r_squared, e.observations, e.quality_flag
         FROM symbol_factor_exposures e JOIN factor_definitions f ON f.id = e.factor_id
        WHERE e.calculation_date = '2024-12-31'`,
    );
    const { problems, worst } = checkAgainstGolden(golden, rows);
    assert.deepEqual(problems.slice(0, 20), []);
    assert.equal(golden.length, 6094);
    tc.diagnostic(`${golden.length} golden rows; largest gap of a beta or R²: ${worst.toExponential(2)}`);
  });

  // A forced run replaces the date's wide rows (one delete and one COPY, migration 0010) instead of
  // upserting row by row, so it does write; what it writes must be the same numbers, bit for bit.
  it('running again writes nothing (idempotent), and --force writes the same numbers', async () => {
    const snapshot = async () =>
      (
        await t.pool.query(
          "SELECT symbol, factor_id, beta, r_squared, observations, quality_flag FROM symbol_factor_exposures WHERE calculation_date = '2024-12-31' ORDER BY 1, 2",
        )
      ).rows;
    const before = await snapshot();
    const cached = await runFactors(t.db, t.pool, { date: '2024-12-31' });
    assert.deepEqual([cached.symbols, cached.alreadyCached], [0, 554]);
    const forced = await runFactors(t.db, t.pool, { date: '2024-12-31', force: true });
    assert.equal(forced.symbols, 554);
    assert.deepEqual(await snapshot(), before);
  });

  it('the independent legacy path (src/legacy) matches the golden rows too, for every 20th symbol held as a position', async (tc) => {
    const golden = readGolden();
    const symbols = [...new Set(golden.map((g) => g[0]!))].filter((_, i) => i % 20 === 0);
    const user = await t.pool.query(
      "INSERT INTO users (username, password_hash) VALUES ('golden', 'x') RETURNING id",
    );
    const p = await t.pool.query(
      "INSERT INTO portfolios (owner_id, name, equity_balance) VALUES ($1, 'golden', 1e6) RETURNING id",
      [user.rows[0].id],
    );
    await t.pool.query(
      "INSERT INTO positions (portfolio_id, symbol, position_type, quantity) SELECT $1, s, 'LONG', 1 FROM unnest($2::text[]) AS s",
      [p.rows[0].id, symbols],
    );
    const written = await writeLegacyExposures(t.pool, '2024-12-31');
    assert.equal(written.positions, symbols.length);
    const { rows } = await t.pool.query<StoredBeta>(
      `SELECT p.symbol, f.name, p.beta, p.r_squared, p.observations, p.quality_flag FROM position_factor_exposures p
         JOIN factor_definitions f ON f.id = p.factor_id WHERE p.calculation_date = '2024-12-31'`,
    );
    const { problems, worst } = checkAgainstGolden(golden, rows, new Set(symbols));
    assert.deepEqual(problems.slice(0, 20), []);
    tc.diagnostic(
      `${symbols.length} symbols, ${rows.length} legacy rows; largest gap to the fixtures: ${worst.toExponential(2)}`,
    );
  });
});
