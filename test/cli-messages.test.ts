import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { scratchDir } from './helpers/files.ts';

const cli = path.resolve('bin/factor-universe.js');

/** Runs the command line; resolves with its exit code and output whatever the code. */
async function fu(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      env: { ...process.env, FU_DATA_DIR: scratchDir(), ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('command-line messages', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await fu(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['factors run --date', 'import prices PATH', 'batch backfill', 'what-if FILE'])
      assert.ok(r.stdout.includes(`factor-universe ${c}`), c);
  });

  it("a command's --help prints its own usage without running it", async () => {
    const r = await fu(['factors', 'run', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: factor-universe factors run --date YYYY-MM-DD/);
  });

  it('import portfolio --help and what-if --help write down every column of a portfolio CSV', async () => {
    // The columns the importer reads (src/imports/portfolio.ts), listed here by hand.
    const columns = [
      'symbol',
      'position_type',
      'quantity',
      'entry_price',
      'entry_date',
      'exit_date',
      'underlying_symbol',
      'strike_price',
      'expiration_date',
      'implied_volatility',
      'multiplier',
    ];
    for (const command of [['import', 'portfolio'], ['what-if']]) {
      const r = await fu([...command, '--help']);
      assert.equal(r.code, 0);
      for (const c of columns)
        assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'), `${command.join(' ')}: ${c}`);
      assert.match(r.stdout, /LC, LP, SC, SP/);
    }
  });

  it('an unknown command says so before the usage, exit 2', async () => {
    const r = await fu(['frobnicate', '--date', '2024-01-02']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Unknown command "frobnicate"\.\n\nUsage:\n/);
  });

  it('a command word without its subcommand names the subcommands, exit 2', async () => {
    const r = await fu(['import', 'pricez', 'x.csv']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^Unknown command "import pricez"; "import" has: import prices, import companies, import portfolio\./,
    );
  });

  it('a missing file is named with what was expected there, exit 1', async () => {
    const missing = path.join(scratchDir(), 'nope.csv');
    const r = await fu(['import', 'prices', missing]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `${missing}: no such file or folder (expected a prices CSV (symbol,date,close…), a .csv.gz, or a folder of SYMBOL.csv)`,
    );
    assert.doesNotMatch(r.stderr, /ENOENT/);
  });

  it('a folder where a file is expected is named, exit 1', async () => {
    const dir = scratchDir();
    const r = await fu(['what-if', dir, '--date', '2024-01-02']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `${dir}: is a folder (expected a portfolio positions CSV)`);
  });

  it('--from after --to is a usage error, exit 2', async () => {
    const r = await fu(['batch', 'backfill', '--from', '2024-03-01', '--to', '2024-02-01']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^--from 2024-03-01 is after --to 2024-02-01\nUsage: factor-universe batch backfill/,
    );
  });

  it('a malformed date and an unknown option are usage errors, exit 2', async () => {
    const bad = await fu(['factors', 'run', '--date', '2024-02-30']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^--date must be a date YYYY-MM-DD, got "2024-02-30"/);
    const unknown = await fu(['metrics', 'run', '--date', '2024-01-02', '--frob']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--frob'/);
  });

  it('a bad configuration value is named with its variable, exit 2', async () => {
    const r = await fu(['factors', 'run', '--date', '2024-01-02'], { FU_POOL_SIZE: 'ten' });
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      'Configuration: FU_POOL_SIZE (environment variable) must be a positive integer, got "ten"\n',
    );
  });

  it('an old variable name is read with a warning on stderr', async () => {
    // --concurrency 0 stops the command after the configuration loaded, before any database
    const r = await fu(['factors', 'run', '--date', '2024-01-02', '--concurrency', '0'], {
      MAX_CONCURRENT_BATCHES: '3',
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^Warning: MAX_CONCURRENT_BATCHES is deprecated; set FU_MAX_CONCURRENT_BATCHES instead\n--concurrency must be/,
    );
  });
});
