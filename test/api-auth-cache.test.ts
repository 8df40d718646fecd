/**
 * The signed-in user's row reused for FU_AUTH_CACHE_MS (docs/security.md): a change made through the
 * serving process (sign-out everywhere, a password change) refuses the old token on the very next
 * request whatever the TTL; a change made elsewhere (SQL, `users create --replace`, another process)
 * may be unseen while the row held is younger than the TTL, and is seen once it is older. No timing
 * is asserted: the tests wait past the TTL, never measure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/api/server.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { AccountCache } from '../src/users/account-cache.ts';
import { accountById, createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

const SECRET = 'auth-cache-test-secret-0123456789abcdef0123';
let t: TestDb;
let config: Config;
const servers: FastifyInstance[] = [];

async function start(authCacheMs: number): Promise<string> {
  const app = await buildServer({
    db: t.db,
    pool: t.pool,
    config: { ...config, authCacheMs },
    secret: SECRET,
  });
  servers.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

async function call(at: string, path: string, token?: string, body?: unknown): Promise<number> {
  const res = await fetch(`${at}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

async function tokenOf(at: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${at}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

/** A fresh user and a token of theirs, the token already used once (so the row is held). */
async function signedIn(at: string, username: string, isAdmin = false): Promise<string> {
  await createUser(t.db, { username, password: `${username}-password`, isAdmin });
  const token = await tokenOf(at, username, `${username}-password`);
  assert.equal(await call(at, '/api/v1/auth/me', token), 200);
  return token;
}

before(async () => {
  t = await createTestDb();
  config = { ...loadConfig({}), loginLimitPerUser: 1000, loginLimitPerAddress: 1000 };
});

after(async () => {
  for (const s of servers) await s.close();
  await t.close();
});

describe('changes made through the serving process', () => {
  it('sign-out everywhere refuses the old tokens on the very next request, with a row held for a minute', async () => {
    const at = await start(60_000);
    const token = await signedIn(at, 'anna');
    const other = await tokenOf(at, 'anna', 'anna-password');
    assert.equal(await call(at, '/api/v1/auth/logout-all', token, {}), 200);
    assert.equal(await call(at, '/api/v1/auth/me', token), 401);
    assert.equal(await call(at, '/api/v1/auth/me', other), 401);
    assert.equal(await call(at, '/api/v1/auth/me', await tokenOf(at, 'anna', 'anna-password')), 200);
  });

  it('a password change refuses the old token on the very next request, with a row held for a minute', async () => {
    const at = await start(60_000);
    const token = await signedIn(at, 'bert');
    const changed = await call(at, '/api/v1/auth/password', token, {
      current_password: 'bert-password',
      new_password: 'bert-password-2',
    });
    assert.equal(changed, 200);
    assert.equal(await call(at, '/api/v1/auth/me', token), 401);
    assert.equal(await call(at, '/api/v1/auth/me', await tokenOf(at, 'bert', 'bert-password-2')), 200);
  });
});

describe('changes made elsewhere (SQL, the command line, another process)', () => {
  it('a user disabled in the store is refused once the row held is older than the TTL', async () => {
    const ttl = 300;
    const at = await start(ttl);
    const revoked = await signedIn(at, 'carl');
    const deleted = await signedIn(at, 'dora');
    // disabled by hand: every token version bumped, and a user removed
    await t.pool.query("UPDATE users SET token_version = token_version + 1 WHERE username = 'carl'");
    await t.pool.query("DELETE FROM users WHERE username = 'dora'");
    // within the TTL either answer is allowed (the row may still be held); past it, only a refusal
    assert.ok([200, 401].includes(await call(at, '/api/v1/auth/me', revoked)));
    await sleep(ttl + 50);
    assert.equal(await call(at, '/api/v1/auth/me', revoked), 401);
    assert.equal(await call(at, '/api/v1/auth/me', deleted), 401);
  });

  it('a demotion by `users create --replace` elsewhere revokes the token once the TTL has passed', async () => {
    const ttl = 300;
    const at = await start(ttl);
    const token = await signedIn(at, 'edda', true);
    assert.equal(await call(at, '/api/v1/batch/runs', token), 200);
    await createUser(t.db, { username: 'edda', password: 'edda-password' }, true);
    await sleep(ttl + 50);
    assert.equal(await call(at, '/api/v1/batch/runs', token), 401);
    assert.equal(await call(at, '/api/v1/batch/runs', await tokenOf(at, 'edda', 'edda-password')), 403);
  });

  it('the trade documented: within a minute-long TTL, a revocation made elsewhere is not seen yet', async () => {
    const at = await start(60_000);
    const token = await signedIn(at, 'fritz');
    await t.pool.query("UPDATE users SET token_version = token_version + 1 WHERE username = 'fritz'");
    assert.equal(await call(at, '/api/v1/auth/me', token), 200, 'the row held is reused');
    // a token of the newer version (a sign-in after the revocation) makes the store be read: it is
    // accepted, and from then on the old one is refused
    const fresh = await tokenOf(at, 'fritz', 'fritz-password');
    assert.equal(await call(at, '/api/v1/auth/me', fresh), 200);
    assert.equal(await call(at, '/api/v1/auth/me', token), 401);
  });
});

describe('AccountCache', () => {
  it('concurrent misses share one read; forget drops the row, also while it is being read', async () => {
    await createUser(t.db, { username: 'gus', password: 'gus-password' });
    const id = (await t.pool.query<{ id: number }>("SELECT id FROM users WHERE username = 'gus'")).rows[0]!
      .id;
    let reads = 0;
    const cache = new AccountCache(60_000, (i) => {
      reads++;
      return accountById(t.db, i);
    });
    const [a, b] = await Promise.all([cache.get(id), cache.get(id)]);
    assert.equal(reads, 1);
    assert.deepEqual(a, b);
    assert.equal(a?.token_version, 0);
    await cache.get(id);
    assert.equal(reads, 1, 'held');
    // the row changes, then forget: the next get reads it again
    await t.pool.query('UPDATE users SET token_version = token_version + 1 WHERE id = $1', [id]);
    assert.equal((await cache.get(id))?.token_version, 0, 'held');
    cache.forget(id);
    assert.equal((await cache.get(id))?.token_version, 1);
    assert.equal(reads, 2);
    // a read under way is dropped by forget too: a get after it starts a read of its own
    cache.forget(id);
    const underWay = cache.get(id);
    cache.forget(id);
    await Promise.all([underWay, cache.get(id)]);
    assert.equal(reads, 4);
    // unknown users are not held
    assert.equal(await cache.get(-1), undefined);
    const before = reads;
    await cache.get(-1);
    assert.equal(reads, before + 1);
    // 0 keeps nothing
    let direct = 0;
    const none = new AccountCache(0, (i) => {
      direct++;
      return accountById(t.db, i);
    });
    await none.get(id);
    await none.get(id);
    assert.equal(direct, 2);
  });
});
