import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

/** Loads with `env` in a folder holding `file` (as factor-universe.config.json) if given. */
function load(env: NodeJS.ProcessEnv, file?: string[]) {
  const cwd = scratchDir();
  if (file) writeLines(cwd, 'factor-universe.config.json', file);
  const warnings: string[] = [];
  const config = loadConfig(env, cwd, { warn: (m) => warnings.push(m) });
  return { config, warnings, cwd };
}

/** The problems a configuration is refused with. */
function problems(env: NodeJS.ProcessEnv, file?: string[]): { problems: string[]; cwd: string } {
  const cwd = scratchDir();
  if (file) writeLines(cwd, 'factor-universe.config.json', file);
  try {
    loadConfig(env, cwd, { warn: () => undefined });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return { problems: e.problems, cwd };
  }
  return assert.fail('expected a ConfigError');
}

describe('configuration: values checked when they load', () => {
  it('defaults, then the file, then the environment', () => {
    const none = load({});
    assert.equal(none.config.poolSize, 10);
    assert.equal(none.config.dataDir, path.join(none.cwd, '.data'));
    const file = load({}, ['{"poolSize": 4, "readPath": "position", "dualWrite": false}']);
    assert.deepEqual(
      [file.config.poolSize, file.config.readPath, file.config.dualWrite],
      [4, 'position', false],
    );
    const both = load({ FU_POOL_SIZE: '7', FU_DUAL_WRITE: 'on' }, ['{"poolSize": 4, "dualWrite": false}']);
    assert.deepEqual([both.config.poolSize, both.config.dualWrite], [7, true]);
  });

  it('a bad environment value names the variable', () => {
    assert.deepEqual(problems({ FU_POOL_SIZE: 'ten' }).problems, [
      'FU_POOL_SIZE (environment variable) must be a positive integer, got "ten"',
    ]);
    assert.deepEqual(problems({ FU_PORT: '70000' }).problems, [
      'FU_PORT (environment variable) must be a positive integer up to 65535, got "70000"',
    ]);
    assert.deepEqual(problems({ FU_DUAL_WRITE: 'maybe' }).problems, [
      'FU_DUAL_WRITE (environment variable) must be true or false (1/true/on/yes/0/false/off/no), got "maybe"',
    ]);
    assert.deepEqual(problems({ FU_READ_PATH: 'symbols' }).problems, [
      'FU_READ_PATH (environment variable) must be one of symbol, position, symbol_with_fallback, got "symbols"',
    ]);
    assert.deepEqual(problems({ FU_API_CACHE_MS: '-1' }).problems, [
      'FU_API_CACHE_MS (environment variable) must be a whole number ≥ 0, got "-1"',
    ]);
  });

  it('the schedule: a five-field cron expression and a time zone the runtime knows', () => {
    const ok = load({ FU_SCHEDULE: '30 22 * * 1-5', FU_SCHEDULE_TZ: 'America/New_York' }).config;
    assert.deepEqual([ok.schedule, ok.scheduleTimeZone], ['30 22 * * 1-5', 'America/New_York']);
    assert.deepEqual(problems({ FU_SCHEDULE: 'every evening' }).problems, [
      'FU_SCHEDULE (environment variable) must be a cron expression of five fields, e.g. "30 22 * * 1-5", got "every evening"',
    ]);
    assert.deepEqual(problems({ FU_SCHEDULE_TZ: 'Mars/Olympus' }).problems, [
      'FU_SCHEDULE_TZ (environment variable) must be an IANA time zone such as America/New_York or UTC, got "Mars/Olympus"',
    ]);
  });

  it('a bad file value names the file and the key', () => {
    const r = problems({}, ['{"poolSize": 0, "jwtSecret": 42}']);
    const file = path.join(r.cwd, 'factor-universe.config.json');
    assert.deepEqual(r.problems, [
      `"poolSize" in ${file} must be a positive integer, got 0`,
      `"jwtSecret" in ${file} must be a non-empty string, got 42`,
    ]);
  });

  it('an environment value that overrides a bad file value hides it', () => {
    assert.equal(load({ FU_POOL_SIZE: '3' }, ['{"poolSize": "many"}']).config.poolSize, 3);
  });

  it('unknown keys of the file are reported', () => {
    const r = problems({}, ['{"poolsize": 4, "poolSize": 4}']);
    assert.equal(r.problems.length, 1);
    assert.match(
      r.problems[0]!,
      new RegExp(
        `^unknown key "poolsize" in ${r.cwd}/factor-universe\\.config\\.json \\(known keys: databaseUrl, dataDir, `,
      ),
    );
  });

  it('a file that is not a JSON object, and a missing FU_CONFIG file, are named', () => {
    const bad = problems({}, ['{"poolSize": 4,']);
    assert.match(
      bad.problems[0]!,
      new RegExp(`^${bad.cwd}/factor-universe\\.config\\.json is not readable JSON: `),
    );
    const array = problems({}, ['[1]']);
    assert.deepEqual(array.problems, [
      `${array.cwd}/factor-universe.config.json must hold a JSON object of settings, got an array`,
    ]);
    const missing = problems({ FU_CONFIG: 'elsewhere.json' });
    assert.deepEqual(missing.problems, [
      `FU_CONFIG names ${missing.cwd}/elsewhere.json, which does not exist`,
    ]);
  });

  it('every problem at once, in one error whose message lists them', () => {
    const cwd = scratchDir();
    writeLines(cwd, 'factor-universe.config.json', ['{"colour": "blue"}']);
    assert.throws(
      () => loadConfig({ FU_PG_PORT: 'x' }, cwd),
      (e: Error) =>
        e.message ===
        `Configuration:\n  unknown key "colour" in ${cwd}/factor-universe.config.json (known keys: ${Object.keys(load({}).config).join(', ')})\n` +
          '  FU_PG_PORT (environment variable) must be a positive integer up to 65535, got "x"',
    );
  });

  it('MAX_CONCURRENT_BATCHES is still read, with a warning; FU_MAX_CONCURRENT_BATCHES wins', () => {
    const old = load({ MAX_CONCURRENT_BATCHES: '3' });
    assert.equal(old.config.maxConcurrentBatches, 3);
    assert.deepEqual(old.warnings, [
      'MAX_CONCURRENT_BATCHES is deprecated; set FU_MAX_CONCURRENT_BATCHES instead',
    ]);
    const both = load({ MAX_CONCURRENT_BATCHES: '3', FU_MAX_CONCURRENT_BATCHES: '8' });
    assert.equal(both.config.maxConcurrentBatches, 8);
    assert.deepEqual(both.warnings, []);
    assert.deepEqual(problems({ MAX_CONCURRENT_BATCHES: '0' }).problems, [
      'MAX_CONCURRENT_BATCHES (environment variable) must be a positive integer, got "0"',
    ]);
  });

  it('DATABASE_URL and PORT are accepted without a warning; the FU_ names win', () => {
    const platform = load({ DATABASE_URL: 'postgres://a@h/db', PORT: '8080' });
    assert.deepEqual([platform.config.databaseUrl, platform.config.port], ['postgres://a@h/db', 8080]);
    assert.deepEqual(platform.warnings, []);
    const both = load({
      DATABASE_URL: 'postgres://a@h/db',
      FU_DATABASE_URL: 'postgres://b@h/db',
      PORT: '8080',
      FU_PORT: '9090',
    });
    assert.deepEqual([both.config.databaseUrl, both.config.port], ['postgres://b@h/db', 9090]);
    assert.deepEqual(problems({ PORT: 'http' }).problems, [
      'PORT (environment variable) must be a positive integer up to 65535, got "http"',
    ]);
  });
});
