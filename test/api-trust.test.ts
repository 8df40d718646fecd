/**
 * Who may do what with which token, and what the API tells and logs: tokens pinned to HS256 with an
 * expiry, revoked at once by sign-out-everywhere, a password change or a demotion; admin rights read
 * from the store; old bcrypt hashes still accepted (and upgraded); login rate limits; the demo user is
 * no admin and the demo password never faces a public address; security headers, CORS, request ids,
 * 413/415/500 bodies, and no line per request in the log.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import type { FastifyInstance } from 'fastify';
import { serve } from '../src/api/serve.ts';
import { buildServer } from '../src/api/server.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createUser } from '../src/users/users.ts';
import { isDatabaseUnavailable } from '../src/api/errors.ts';
import { connect } from '../src/db/connection.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

const SECRET = 'trust-test-secret-0123456789abcdef0123456789';
let t: TestDb;
let config: Config;
const servers: FastifyInstance[] = [];
let logLines: string[] = [];

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

let base: string;
async function call(
  path: string,
  token?: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  at = base,
) {
  const res = await fetch(`${at}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
const login = async (username: string, password: string, at = base) =>
  call('/api/v1/auth/login', undefined, { body: { username, password } }, at);
const tokenOf = async (username: string, password: string) => {
  const r = await login(username, password);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.token as string;
};

/** A JWT signed by hand with our secret (or none), to try what the server must refuse. */
function handMade(header: object, payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64(header);
  const body = b64(payload);
  const alg = (header as { alg: string }).alg;
  if (alg === 'none') return `${head}.${body}.`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg]!;
  return `${head}.${body}.${createHmac(hash, SECRET).update(`${head}.${body}`).digest('base64url')}`;
}

before(async () => {
  t = await createTestDb();
  config = { ...loadConfig({}), loginLimitPerUser: 1000, loginLimitPerAddress: 1000 };
  await createUser(t.db, { username: 'alice', password: 'alice-password' });
  await createUser(t.db, { username: 'root', password: 'root-password', isAdmin: true });
  base = await start();
});
after(async () => {
  for (const s of servers) await s.close();
  await t.close();
});

describe('tokens', () => {
  it('only HS256 with an expiry is accepted: none, HS512 and a token without exp answer 401', async () => {
    const id = (await t.pool.query("SELECT id FROM users WHERE username = 'alice'")).rows[0].id;
    const exp = Math.floor(Date.now() / 1000) + 600;
    const claims = { sub: id, username: 'alice', tv: 0 };
    assert.equal(
      (await call('/api/v1/portfolios', handMade({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp }))).status,
      200,
    );
    for (const [what, token] of [
      ['alg none', handMade({ alg: 'none', typ: 'JWT' }, { ...claims, exp })],
      ['HS512', handMade({ alg: 'HS512', typ: 'JWT' }, { ...claims, exp })],
      ['no exp', handMade({ alg: 'HS256', typ: 'JWT' }, claims)],
      ['expired', handMade({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: exp - 1200 })],
      ['garbage', 'not.a.token'],
    ] as const) {
      const r = await call('/api/v1/portfolios', token);
      assert.equal(r.status, 401, what);
      assert.equal(r.body.error, 'unauthorized', what);
    }
  });

  it('sign-out-everywhere revokes every token of the user at once, and only theirs', async () => {
    const a1 = await tokenOf('alice', 'alice-password');
    const a2 = await tokenOf('alice', 'alice-password');
    const r = await tokenOf('root', 'root-password');
    assert.equal((await call('/api/v1/auth/logout-all', a1, { method: 'POST' })).status, 200);
    assert.equal((await call('/api/v1/portfolios', a1)).status, 401);
    assert.equal((await call('/api/v1/portfolios', a2)).status, 401);
    assert.equal((await call('/api/v1/portfolios', r)).status, 200);
    assert.equal((await call('/api/v1/portfolios', await tokenOf('alice', 'alice-password'))).status, 200);
  });

  it('a password change revokes the tokens; the old password no longer signs in', async () => {
    const old = await tokenOf('alice', 'alice-password');
    const wrong = await call('/api/v1/auth/password', old, {
      body: { current_password: 'nope-nope', new_password: 'alice-password-2' },
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.message, /current_password/);
    const changed = await call('/api/v1/auth/password', old, {
      body: { current_password: 'alice-password', new_password: 'alice-password-2' },
    });
    assert.equal(changed.status, 200);
    assert.equal((await call('/api/v1/portfolios', old)).status, 401);
    assert.equal((await login('alice', 'alice-password')).status, 401);
    const fresh = await tokenOf('alice', 'alice-password-2');
    assert.equal((await call('/api/v1/portfolios', fresh)).status, 200);
    await call('/api/v1/auth/password', fresh, {
      body: { current_password: 'alice-password-2', new_password: 'alice-password' },
    });
  });

  it('admin rights come from the store: with FU_AUTH_CACHE_MS=0 a demotion made elsewhere takes effect on the very next request', async () => {
    // The changes below are made outside the server (as another process would): with the user's row
    // not reused (0), the next request sees them. With a cache they take up to its TTL
    // (test/api-auth-cache.test.ts).
    const at = await start({ authCacheMs: 0 });
    const get = async (path: string, token: string) => call(path, token, {}, at);
    await createUser(t.db, { username: 'ops', password: 'ops-password', isAdmin: true });
    const token = await tokenOf('ops', 'ops-password');
    assert.equal((await get('/api/v1/batch/runs', token)).status, 200);
    // Demoted directly in the store (no token version change): the token no longer carries rights.
    await t.pool.query("UPDATE users SET is_admin = false WHERE username = 'ops'");
    assert.equal((await get('/api/v1/batch/runs', token)).status, 403);
    await t.pool.query("UPDATE users SET is_admin = true WHERE username = 'ops'");
    assert.equal((await get('/api/v1/batch/runs', token)).status, 200);
    // Demoted the supported way (`users create ops --replace` without --admin): the token is revoked.
    await createUser(t.db, { username: 'ops', password: 'ops-password' }, true);
    assert.equal((await get('/api/v1/batch/runs', token)).status, 401);
    assert.equal((await get('/api/v1/batch/runs', await tokenOf('ops', 'ops-password'))).status, 403);
  });

  it('batch-run details are for admins only', async () => {
    assert.equal((await call('/api/v1/batch/runs', await tokenOf('alice', 'alice-password'))).status, 403);
    assert.equal((await call('/api/v1/batch/runs', await tokenOf('root', 'root-password'))).status, 200);
  });
});

describe('passwords', () => {
  it('new hashes are scrypt; a bcrypt hash of an earlier version still signs in and is upgraded', async () => {
    const hash = (await t.pool.query("SELECT password_hash FROM users WHERE username = 'root'")).rows[0]
      .password_hash;
    assert.match(hash, /^scrypt\$/);
    await t.pool.query("INSERT INTO users (username, password_hash) VALUES ('legacy', $1)", [
      bcrypt.hashSync('legacy-password', 4),
    ]);
    assert.equal((await login('legacy', 'wrong-password')).status, 401);
    assert.equal((await login('legacy', 'legacy-password')).status, 200);
    const after = (await t.pool.query("SELECT password_hash FROM users WHERE username = 'legacy'")).rows[0];
    assert.match(after.password_hash, /^scrypt\$/);
    assert.equal((await login('legacy', 'legacy-password')).status, 200);
  });

  it('logins are limited per user and per address: 429 with Retry-After', async () => {
    const limited = await start({ loginLimitPerUser: 3, loginLimitPerAddress: 6, loginWindowSeconds: 60 });
    for (let i = 0; i < 3; i++) assert.equal((await login('alice', 'wrong-password', limited)).status, 401);
    const refused = await login('alice', 'alice-password', limited);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error, 'too_many_requests');
    const wait = Number(refused.headers.get('retry-after'));
    assert.ok(wait > 0 && wait <= 60, `Retry-After ${wait}`);
    // Another user from the same address still signs in, until the address's own limit.
    assert.equal((await login('root', 'root-password', limited)).status, 200);
    assert.equal((await login('root', 'root-password', limited)).status, 200);
    assert.equal((await login('root', 'root-password', limited)).status, 429);
  });
});

describe('the demo password', () => {
  it('a server on a public address refuses to start while a user has the demo password', async () => {
    await createUser(t.db, { username: 'demo', password: 'demo-password' });
    const d = { ...t, close: async () => undefined };
    await assert.rejects(
      serve(d, { ...config, demoPassword: 'demo-password' }, 0, '0.0.0.0'),
      /demo password.*|demo/,
    );
    const rows = (await t.pool.query("SELECT is_admin FROM users WHERE username = 'demo'")).rows;
    assert.deepEqual(rows, [{ is_admin: false }]);
  });
});

describe('headers, errors and logs', () => {
  it('security headers with a CSP for a same-origin app; no CORS unless configured', async () => {
    const r = await call('/health', undefined, { headers: { origin: 'https://evil.example' } });
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /img-src 'self' data: blob:/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    const withCors = await start({ corsOrigins: ['https://app.example'] });
    const ok = await call('/health', undefined, { headers: { origin: 'https://app.example' } }, withCors);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    const other = await call('/health', undefined, { headers: { origin: 'https://evil.example' } }, withCors);
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
  });

  it('413 and 415 carry their own codes; a 500 carries a request id and no driver message', async () => {
    const big = await call('/api/v1/auth/login', undefined, {
      body: JSON.stringify({ username: 'x', password: 'y'.repeat(2 * 1024 * 1024) }),
    });
    assert.deepEqual([big.status, big.body.error], [413, 'payload_too_large']);
    const text = await call('/api/v1/auth/login', undefined, {
      method: 'POST',
      body: '<login/>',
      headers: { 'content-type': 'application/xml' },
    });
    assert.deepEqual([text.status, text.body.error], [415, 'unsupported_media_type']);
    const token = await tokenOf('alice', 'alice-password');
    await t.pool.query('ALTER TABLE factor_definitions RENAME COLUMN description TO description_gone');
    try {
      const r = await call('/api/v1/data/factors', token);
      assert.equal(r.status, 500);
      assert.equal(r.body.error, 'internal_error');
      assert.match(r.body.request_id, /^[0-9a-f-]{36}$/);
      assert.equal(r.headers.get('x-request-id'), r.body.request_id);
      assert.doesNotMatch(JSON.stringify(r.body), /description|column|42703/);
    } finally {
      await t.pool.query('ALTER TABLE factor_definitions RENAME COLUMN description_gone TO description');
    }
  });

  it('logs are JSON lines with the request id; no line per request unless FU_LOG_LEVEL=debug', async () => {
    logLines = [];
    const quiet = await start({ logLevel: 'info' }, true);
    for (let i = 0; i < 20; i++) await call('/health', undefined, {}, quiet);
    const bad = await login('alice', 'alice-password', quiet);
    assert.equal(bad.status, 200);
    assert.equal(
      logLines.filter((l) => /"url"|incoming request|request completed/.test(l)).length,
      0,
      logLines.join('\n'),
    );
    logLines = [];
    const verbose = await start({ logLevel: 'debug' }, true);
    const r = await call('/health', undefined, {}, verbose);
    const lines = logLines.map((l) => JSON.parse(l) as { reqId?: string; msg?: string });
    assert.ok(
      lines.some((l) => l.reqId === r.headers.get('x-request-id') && l.msg === 'request'),
      logLines.join('\n'),
    );
    assert.ok(!logLines.some((l) => /alice-password|Bearer /.test(l)));
  });
});

describe('database timeouts', () => {
  it('the pool applies its statement and checkout timeouts; both count as the database being unavailable', async () => {
    const { db, pool } = connect(t.url, 1, { statementTimeoutMs: 1000, connectTimeoutMs: 200 });
    try {
      let slowDone = false;
      const slow = pool
        .query('SELECT pg_sleep(2)')
        .catch((e: Error) => e)
        .finally(() => (slowDone = true));
      // The pool's one connection is busy: a second checkout gives up (after 200 ms) while the
      // statement still holds it, rather than waiting for the connection.
      const waited = await pool.query('SELECT 1').catch((e: Error) => e);
      const gaveUpFirst = !slowDone;
      const statement = await slow;
      assert.equal((statement as { code?: string }).code, '57014', String(statement));
      assert.ok(isDatabaseUnavailable(statement));
      assert.ok(waited instanceof Error && isDatabaseUnavailable(waited), String(waited));
      assert.ok(gaveUpFirst, 'the checkout gave up before the busy connection was free');
    } finally {
      await db.destroy();
    }
  });
});
