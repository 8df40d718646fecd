/**
 * The second round of attacks (issue 23), each a test that failed on the code before its fix:
 * the public-bind guard reads the demo user's real password; every password check is rate-limited
 * (the password change too, with usernames' case kept); cookie-authenticated state changes need
 * their own Origin (CSRF); the cookie is Secure behind a trusted proxy; a weak FU_JWT_SECRET is
 * refused; what-if with a vanishing equity is a 400; ids are decimal digits only, refused before
 * the database and without a stack in the log; one symbol rule (RTL override, emoji) and one
 * share-class spelling (BRK.B = BRK-B); the terminal table of 200,000 rows; `users create` takes no
 * password on the command line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { serve } from '../src/api/serve.ts';
import { buildServer } from '../src/api/server.ts';
import { ConfigError, loadConfig, type Config } from '../src/config.ts';
import { loadDemoMarket } from '../src/demo/load.ts';
import { ImportError } from '../src/imports/csv.ts';
import { readPositionsCsv } from '../src/imports/portfolio.ts';
import { importPrices } from '../src/imports/prices.ts';
import { createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

const SECRET = 'trust-test-secret-0123456789abcdef0123456789';
let t: TestDb;
let config: Config;
const servers: FastifyInstance[] = [];
let logLines: string[] = [];
let base: string;

async function start(overrides: Partial<Config> = {}, logger = false): Promise<string> {
  const app = await buildServer(
    { db: t.db, pool: t.pool, config: { ...config, ...overrides }, secret: SECRET },
    {
      logger,
      logStream: new Writable({
        write(chunk, _enc, done) {
          logLines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }),
    },
  );
  servers.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

async function call(
  route: string,
  init: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
  at = base,
) {
  const res = await fetch(`${at}${route}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* kept as text */
  }
  return { status: res.status, headers: res.headers, body };
}
const login = (username: string, password: string, at = base) =>
  call('/api/v1/auth/login', { body: { username, password } }, at);
async function tokenOf(username: string, password: string, at = base): Promise<string> {
  const r = await login(username, password, at);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.token as string;
}

before(async () => {
  t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: 40 });
  config = { ...loadConfig({}), loginLimitPerUser: 1000, loginLimitPerAddress: 1000 };
  await createUser(t.db, { username: 'alice', password: 'alice-password' });
  await createUser(t.db, { username: 'bob', password: 'bob-password' });
  base = await start();
});
after(async () => {
  for (const s of servers) await s.close();
  await t.close();
});

/**
 * Runs `serve` on every interface (port 0) and says whether it refused (the error) or listened
 * (then it is stopped with SIGINT, as an operator would).
 */
async function servePublicly(overrides: Partial<Config>): Promise<Error | 'listened'> {
  const d = { ...t, close: async () => undefined };
  const out: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void out.push(args.join(' '));
  try {
    const running = serve(d, { ...config, ...overrides }, 0, '0.0.0.0').then(
      () => 'listened' as const,
      (e: Error) => e,
    );
    for (let i = 0; i < 200 && !out.some((l) => l.includes('Factor Universe API on')); i++) {
      const settled = await Promise.race([running, sleep(50).then(() => undefined)]);
      if (settled instanceof Error) return settled;
    }
    process.emit('SIGINT');
    return await running;
  } finally {
    console.log = log;
  }
}

describe('1. the public-bind guard and what start prints', () => {
  it('refuses a public address while the demo user has the password the loader gave it, whatever FU_DEMO_PASSWORD says now', async () => {
    const r = await servePublicly({ demoPassword: 'other-value-entirely' });
    assert.ok(r instanceof Error, 'the server listened on 0.0.0.0 with demo/demo-password valid');
    assert.match(r.message, /refusing to listen on 0\.0\.0\.0: user\(s\) demo still have the demo password/);
    assert.doesNotMatch(r.message, /demo-password|other-value-entirely/, 'no password in the message');
  });

  it('once the demo user set a password of its own, the same server listens publicly', async () => {
    const token = await tokenOf('demo', 'demo-password');
    const changed = await call('/api/v1/auth/password', {
      token,
      body: { current_password: 'demo-password', new_password: 'a-password-of-its-own' },
    });
    assert.equal(changed.status, 200);
    try {
      assert.equal(await servePublicly({ demoPassword: 'other-value-entirely' }), 'listened');
    } finally {
      // back as the loader left it, for the other tests
      await t.pool.query("UPDATE users SET has_demo_password = true WHERE username = 'demo'").catch(() => {});
      await tokenOf('demo', 'a-password-of-its-own').then((tk) =>
        call('/api/v1/auth/password', {
          token: tk,
          body: { current_password: 'a-password-of-its-own', new_password: 'demo-password' },
        }),
      );
      await t.pool.query("UPDATE users SET has_demo_password = true WHERE username = 'demo'").catch(() => {});
    }
  });

  it("start prints the demo password only when it is the demo user's, and the address it binds", async () => {
    const { signInHint } = (await import('../src/main-job.ts')) as Record<string, unknown> as {
      signInHint?: (d: unknown, c: Config) => Promise<string>;
    };
    assert.equal(typeof signInHint, 'function', 'start has no check of the password it prints');
    const d = { ...t, close: async () => undefined };
    assert.match(await signInHint!(d, config), /sign in as demo \/ demo-password/);
    const other = await signInHint!(d, { ...config, demoPassword: 'not-the-real-one' });
    assert.doesNotMatch(other, /not-the-real-one|demo-password/);
    assert.match(other, /FU_DEMO_PASSWORD is not the password of user "demo"/);
    const { listenUrl } = (await import('../src/api/serve.ts')) as Record<string, unknown> as {
      listenUrl?: (h: string, p: number) => string;
    };
    assert.equal(typeof listenUrl, 'function');
    assert.equal(listenUrl!('0.0.0.0', 3000), 'http://0.0.0.0:3000');
    assert.equal(listenUrl!('::', 3000), 'http://[::]:3000');
  });
});

describe('6. every password check is rate-limited, per user as spelled', () => {
  it('POST /auth/password counts against the per-user limit: the right password is refused once it is spent', async () => {
    // four checks per user: the sign-in below, then three guesses
    const limited = await start({ loginLimitPerUser: 4, loginLimitPerAddress: 1000, loginWindowSeconds: 60 });
    const token = await tokenOf('bob', 'bob-password', limited);
    for (let i = 0; i < 3; i++) {
      const wrong = await call(
        '/api/v1/auth/password',
        { token, body: { current_password: `guess-${i}`, new_password: 'bob-password-2' } },
        limited,
      );
      assert.equal(wrong.status, 400);
    }
    const right = await call(
      '/api/v1/auth/password',
      { token, body: { current_password: 'bob-password', new_password: 'bob-password-2' } },
      limited,
    );
    assert.equal(right.status, 429, JSON.stringify(right.body));
    assert.ok(Number(right.headers.get('retry-after')) > 0);
    // and the guesses count for sign-in too: it is the same credential
    assert.equal((await login('bob', 'bob-password', limited)).status, 429);
    assert.equal((await login('bob', 'bob-password')).status, 200, 'unchanged');
  });

  it('failures on ALICE do not lock alice out (usernames are case-sensitive, so are their limits)', async () => {
    const limited = await start({ loginLimitPerUser: 3, loginLimitPerAddress: 1000, loginWindowSeconds: 60 });
    for (let i = 0; i < 4; i++) await login('ALICE', 'wrong-password', limited);
    assert.equal((await login('ALICE', 'alice-password', limited)).status, 429);
    assert.equal((await login('alice', 'alice-password', limited)).status, 200);
  });
});

describe('7. cross-site requests with the session cookie (CSRF)', () => {
  async function cookieFor(username: string, password: string): Promise<string> {
    const r = await fetch(`${base}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ username, password }),
    });
    assert.equal(r.status, 200);
    return r.headers.get('set-cookie')!.split(';')[0]!;
  }

  it('a body-less text/plain POST to logout-all from another origin is refused and revokes nothing', async () => {
    const cookie = await cookieFor('alice', 'alice-password');
    const other = base.replace('127.0.0.1', 'localhost'); // another origin of the same machine
    for (const headers of [
      { cookie, origin: other, 'content-type': 'text/plain' } as Record<string, string>,
      { cookie, origin: 'https://evil.example' },
      { cookie, referer: 'https://evil.example/page' },
      { cookie }, // neither Origin nor Referer
      { cookie, origin: 'null' },
    ]) {
      const r = await call('/api/v1/auth/logout-all', { method: 'POST', headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.body.error, 'forbidden');
    }
    assert.equal((await call('/api/v1/portfolios', { headers: { cookie } })).status, 200, 'not revoked');
    // A browser sign-in posted from another site is refused too.
    const signIn = await call('/api/v1/auth/session', {
      body: { username: 'alice', password: 'alice-password' },
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(signIn.status, 403);
    // Its own pages may; a bearer token needs no Origin.
    const own = await call('/api/v1/auth/logout-all', { method: 'POST', headers: { cookie, origin: base } });
    assert.equal(own.status, 200);
    assert.equal((await call('/api/v1/portfolios', { headers: { cookie } })).status, 401);
    const token = await tokenOf('alice', 'alice-password');
    assert.equal((await call('/api/v1/auth/logout-all', { method: 'POST', token })).status, 200);
  });
});

describe('9. the session cookie behind a proxy', () => {
  it('is Secure behind FU_TRUST_PROXY (the proxy terminates TLS), and not on the plain loopback', async () => {
    const plain = await call('/api/v1/auth/session', {
      body: { username: 'alice', password: 'alice-password' },
      headers: { origin: base },
    });
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /;\s*Secure/i);
    const proxied = await start({ ...loadConfig({ FU_TRUST_PROXY: '1' }), loginLimitPerUser: 1000 });
    const r = await call(
      '/api/v1/auth/session',
      {
        body: { username: 'alice', password: 'alice-password' },
        headers: {
          origin: 'https://app.example',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'app.example',
        },
      },
      proxied,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.headers.get('set-cookie') ?? '', /;\s*Secure/i);
  });
});

describe('9. FU_JWT_SECRET', () => {
  it('a secret without 32 bytes of entropy is refused, naming the variable and not the value', () => {
    for (const weak of ['x', 'a'.repeat(64), 'password'.repeat(8), 'abcdefghijklmnopqrstuvwxyz012345']) {
      assert.throws(
        () => loadConfig({ FU_JWT_SECRET: weak }),
        (e: unknown) =>
          e instanceof ConfigError &&
          /FU_JWT_SECRET \(environment variable\) must carry at least 32 bytes of entropy/.test(e.message) &&
          !e.message.includes(weak),
        weak,
      );
    }
    const strong = '9f4c2e7a1b8d3f6e0a5c9b2d7e4f1a8c3b6d0e9f2a5c8b1d4e7f0a3c6b9d2e5f';
    assert.equal(loadConfig({ FU_JWT_SECRET: strong }).jwtSecret, strong);
  });
});

describe('8. what-if with a vanishing equity', () => {
  it('equity 1e-300 is a 400 naming equity, not a 500', async () => {
    const token = await tokenOf('demo', 'demo-password');
    const r = await call('/api/v1/analytics/what-if', {
      token,
      body: { equity: 1e-300, positions: [{ symbol: 'SPY', position_type: 'LONG', quantity: 10 }] },
    });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.message, /"equity"/);
    const ok = await call('/api/v1/analytics/what-if', {
      token,
      body: { equity: 1, positions: [{ symbol: 'SPY', position_type: 'LONG', quantity: 10 }] },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});

describe('9. ids are decimal digits, refused before the database', () => {
  it('0x1, " 1", "+1", 1e308, 2147483648, 1.0 are 400 naming the id; no stack or database error is logged', async () => {
    logLines = [];
    const logged = await start({ logLevel: 'info' }, true);
    const token = await tokenOf('demo', 'demo-password', logged);
    const { rows } = await t.pool.query('SELECT min(id) AS id FROM portfolios');
    assert.equal((await call(`/api/v1/portfolios/${rows[0].id}`, { token }, logged)).status, 200);
    for (const id of ['0x1', '%201', '+1', '1e308', '2147483648', '1.0', '01e0', '1%20']) {
      for (const route of [`/api/v1/portfolios/${id}`, `/api/v1/portfolios/${id}/risk`]) {
        const r = await call(route, { token }, logged);
        assert.equal(r.status, 400, `${route}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.message, /"id"/, route);
      }
    }
    assert.deepEqual(
      logLines.filter((l) => /stack|"err"|data exception/.test(l)),
      [],
      'nothing logged for a bad id',
    );
  });
});

describe('9. symbols: one rule, one spelling per share class', () => {
  it('import portfolio refuses an RTL override or an emoji in a symbol, like import prices', async () => {
    const dir = scratchDir();
    for (const bad of ['\u202eLPAA', 'AAPL\u{1F680}', 'AA PL']) {
      const file = writeLines(dir, 'p.csv', ['symbol,position_type,quantity', `${bad},LONG,10`]);
      await assert.rejects(
        readPositionsCsv(file),
        (e: unknown) =>
          e instanceof ImportError && /p\.csv:2: column "symbol": invalid symbol/.test(e.message),
        JSON.stringify(bad),
      );
      const prices = writeLines(dir, 'x.csv', ['symbol,date,close', `${bad},2024-01-02,10`]);
      const r = await importPrices(t.pool, prices);
      assert.equal(r.failures.length, 1, 'import prices refuses it too');
    }
    const underlying = writeLines(dir, 'u.csv', [
      'symbol,position_type,quantity,underlying_symbol,strike_price,expiration_date',
      ',LC,1,\u202eLPAA,100,2030-01-18',
    ]);
    await assert.rejects(
      readPositionsCsv(underlying),
      /u\.csv:2: column "underlying_symbol": invalid symbol/,
    );
  });

  it('BRK.B and BRK-B are one symbol on input and on lookup', async () => {
    const dir = scratchDir();
    const { rows } = await t.pool.query(
      "SELECT date::text AS d FROM market_data_cache WHERE symbol = 'SPY' ORDER BY date DESC LIMIT 3",
    );
    const file = writeLines(dir, 'brk.csv', [
      'symbol,date,close',
      ...rows.map((r: { d: string }, i: number) => `BRK.B,${r.d},${400 + i}`),
    ]);
    const r = await importPrices(t.pool, file);
    assert.equal(r.failures.length, 0);
    const stored = await t.pool.query(
      "SELECT DISTINCT symbol FROM market_data_cache WHERE symbol LIKE 'BRK%'",
    );
    assert.deepEqual(stored.rows, [{ symbol: 'BRK-B' }]);
    const token = await tokenOf('demo', 'demo-password');
    for (const spelled of ['BRK.B', 'BRK-B', 'brk.b']) {
      const prices = await call(`/api/v1/data/symbols/${spelled}/prices`, { token });
      assert.equal(prices.status, 200, spelled);
      assert.equal(prices.body.symbol, 'BRK-B');
      assert.equal(prices.body.closes.length, 3);
      const one = await call(`/api/v1/data/symbols/${spelled}`, { token });
      assert.equal(one.status, 200, `${spelled}: ${JSON.stringify(one.body)}`);
      assert.equal(one.body.symbol, 'BRK-B');
    }
  });
});

describe('9. the terminal table', () => {
  it('formats 200,000 rows (no spread of every row into Math.max)', async () => {
    const { formatTable } = await import('../src/table.ts');
    const rows = Array.from({ length: 200_000 }, (_, i) => [`S${i}`, String(i * 3)]);
    const text = formatTable(['symbol', 'n'], rows);
    const lines = text.split('\n');
    assert.equal(lines.length, 200_002);
    // widths: the longest cell of each column ("S199999", 7; "599997", 6)
    assert.equal(lines[0], `${'symbol'.padEnd(7)}  ${'n'.padStart(6)}`);
    assert.equal(lines.at(-1), 'S199999  599997');
  });
});

describe('9. users create', () => {
  const cli = path.resolve('bin/factor-universe.js');
  async function fu(args: string[], env: NodeJS.ProcessEnv) {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
        env: { ...process.env, FU_DATA_DIR: scratchDir(), DATABASE_URL: t.url, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  }

  it('refuses --password (it would sit in the process list and the shell history); FU_NEW_PASSWORD works', async () => {
    const r = await fu(['users', 'create', 'carol', '--password', 'carol-password'], { FU_NEW_PASSWORD: '' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--password/);
    assert.doesNotMatch(r.stderr, /carol-password/);
    assert.equal((await t.pool.query("SELECT 1 FROM users WHERE username = 'carol'")).rowCount, 0);
    const ok = await fu(['users', 'create', 'carol'], { FU_NEW_PASSWORD: 'carol-password' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await login('carol', 'carol-password')).status, 200);
  });
});
