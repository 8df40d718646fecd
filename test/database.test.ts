import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connection.ts';
import { startEmbeddedServer } from '../src/db/embedded.ts';
import { migrateToLatest, migrationsCurrent } from '../src/db/migrate.ts';
import { freePort, scratchClusterDir } from '../src/db/throwaway.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

const run = promisify(execFile);
const cli = path.resolve('bin/factor-universe.js');

describe('schema', () => {
  let t: TestDb;
  before(async () => (t = await createTestDb()));
  after(async () => t.close());

  it('seeds the 11 factors of the methodology, with their proxies, methods and windows', async () => {
    const rows = await t.db
      .selectFrom('factor_definitions')
      .select([
        'name',
        'method',
        'long_proxy',
        'short_proxy',
        'window_days',
        'min_observations',
        'metric_column',
      ])
      .orderBy('display_order')
      .execute();
    const ridge = (name: string, proxy: string, column: string) => ({
      name,
      method: 'ridge_regression',
      long_proxy: proxy,
      short_proxy: null,
      window_days: 365,
      min_observations: 30,
      metric_column: column,
    });
    const spread = (name: string, long: string, short: string, column: string) => ({
      name,
      method: 'spread_regression',
      long_proxy: long,
      short_proxy: short,
      window_days: 180,
      min_observations: 60,
      metric_column: column,
    });
    assert.deepEqual(rows, [
      ridge('Value', 'VTV', 'factor_value'),
      ridge('Growth', 'VUG', 'factor_growth'),
      ridge('Momentum', 'MTUM', 'factor_momentum'),
      ridge('Quality', 'QUAL', 'factor_quality'),
      ridge('Size', 'IWM', 'factor_size'),
      ridge('Low Volatility', 'USMV', 'factor_low_vol'),
      spread('Growth-Value Spread', 'VUG', 'VTV', 'factor_growth_value_spread'),
      spread('Momentum Spread', 'MTUM', 'SPY', 'factor_momentum_spread'),
      spread('Size Spread', 'IWM', 'SPY', 'factor_size_spread'),
      spread('Quality Spread', 'QUAL', 'SPY', 'factor_quality_spread'),
      {
        name: 'Market Beta',
        method: 'ols_market',
        long_proxy: 'SPY',
        short_proxy: null,
        window_days: 365,
        min_observations: 30,
        metric_column: 'factor_market_beta',
      },
    ]);
  });

  it('migrating again applies nothing and reports the schema current', async () => {
    assert.deepEqual(await migrateToLatest(t.db), []);
    assert.equal(await migrationsCurrent(t.db), true);
  });

  it('keeps a beta to full double precision (no numeric rounding)', async () => {
    await t.pool.query(
      "INSERT INTO symbol_factor_exposures (symbol, factor_id, calculation_date, beta, r_squared, observations, quality_flag) VALUES ('X', 1, '2024-12-31', $1, $2, 252, 'full_history')",
      [Math.PI * 1e-7, 1 / 3],
    );
    const r = await t.pool.query("SELECT beta, r_squared FROM symbol_factor_exposures WHERE symbol = 'X'");
    assert.deepEqual(r.rows[0], { beta: Math.PI * 1e-7, r_squared: 1 / 3 });
  });

  it('refuses a non-positive close even from outside the importer', async () => {
    await assert.rejects(
      t.pool.query("INSERT INTO market_data_cache (symbol, date, close) VALUES ('X', '2024-01-02', 0)"),
      /check constraint/,
    );
  });
});

describe('embedded server', () => {
  it('starts once per cluster: a second start attaches to the running server', async () => {
    const dataDir = scratchClusterDir('fu-emb-');
    const port = await freePort();
    const first = await startEmbeddedServer(dataDir, port);
    try {
      assert.equal(first.owned, true);
      const second = await startEmbeddedServer(dataDir, await freePort());
      assert.deepEqual([second.owned, second.port], [false, port]);
      await second.stop(); // not ours: must leave the server running
      const d = await openDatabase({ ...loadConfig({}), dataDir, embeddedPort: port });
      assert.match(d.location, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.equal((await d.pool.query('SELECT 1 AS one')).rows[0].one, 1);
      // Least privilege: the application is fu_app (no superuser, no DDL) while migrations ran as the owner.
      const me = (
        await d.pool.query(
          'SELECT current_user AS who, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user',
        )
      ).rows[0];
      assert.deepEqual(me, { who: 'fu_app', rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      for (const ddl of [
        'CREATE TABLE intruder (x int)',
        'DROP TABLE users',
        'ALTER TABLE users ADD COLUMN x int',
        'TRUNCATE users',
      ]) {
        await assert.rejects(d.pool.query(ddl), (e: { code?: string }) => e.code === '42501', ddl);
      }
      await d.pool.query("INSERT INTO users (username, password_hash) VALUES ('dml-check', 'x')");
      assert.equal((await d.pool.query("DELETE FROM users WHERE username = 'dml-check'")).rowCount, 1);
      await d.close();
    } finally {
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('command line against DATABASE_URL', () => {
  let t: TestDb;
  before(async () => (t = await createTestDb()));
  after(async () => t.close());
  const env = () => ({ ...process.env, DATABASE_URL: t.url });

  it('imports a file and reports counts; a bad file exits 1 naming line and column', async () => {
    const dir = scratchDir();
    const good = writeLines(dir, 'ok.csv', ['symbol,date,close', 'CLI,2024-01-02,3']);
    const ok = await run(process.execPath, [cli, 'import', 'prices', good], { env: env() });
    assert.match(ok.stdout, /ok\.csv: 1 rows, 1 symbols: 1 new, 0 changed, 0 unchanged/);
    const bad = writeLines(dir, 'bad.csv', ['symbol,date,close', 'CLI,2024-01-03,-3']);
    const err = await run(process.execPath, [cli, 'import', 'prices', bad], { env: env() }).then(
      () => assert.fail('expected a non-zero exit'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /bad\.csv:2: column "close": must be positive, got "-3"/);
  });

  it('answers a usage error with exit code 2', async () => {
    const err = await run(process.execPath, [cli, 'import', 'portfolio', 'x.csv'], { env: env() }).then(
      () => assert.fail('expected a non-zero exit'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 2);
    assert.match(err.stderr, /--name and --owner are required/);
  });

  it('npm start loads the demo market into an empty database once, then reports what is there', async () => {
    const empty = await createTestDb();
    try {
      const startEnv = { ...process.env, DATABASE_URL: empty.url, FU_DATA_DIR: scratchDir() };
      const first = await run(process.execPath, [cli, 'start', '--no-serve'], { env: startEnv });
      assert.match(first.stdout, /Demo market loaded .*: 508 symbols × 757 trading days/);
      const second = await run(process.execPath, [cli, 'start', '--no-serve'], { env: startEnv });
      assert.doesNotMatch(second.stdout, /Demo market loaded/);
      assert.match(second.stdout, /Store: 508 symbols, prices up to 2026-10-30, 3 portfolios/);
    } finally {
      await empty.close();
    }
  });
});
