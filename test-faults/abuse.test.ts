/**
 * An attacker's requests against a real server process: a table of malformed requests, each answered
 * with the 4xx it deserves, naming the field; a schema-driven fuzzer: requests generated from the
 * OpenAPI document the server itself serves (/docs/json) — missing fields, wrong types, numbers out
 * of range, ids beyond 32 bits, impossible dates, NUL bytes, no or a garbage token — each answered
 * below 500, with a status the document declares for that route and a body matching the schema
 * declared for that status; a login flood (other requests stay fast) and the login limits.
 * (One database and one server process for all, to keep CI short; the fuzzer goes last, since it
 * signs out everywhere.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import fc from 'fast-check';
import { DEMO, call, login, startApi, startDatabase, type Api, type Database } from './helpers/stack.ts';

let db: Database;
let api: Api;
let demo: string;
/** Taken before the login tests spend the address's attempts. */
let fuzzToken: string;

before(async () => {
  db = await startDatabase();
  api = await startApi({
    DATABASE_URL: db.appUrl,
    FU_LOGIN_LIMIT_PER_ADDRESS: '60',
    FU_LOGIN_LIMIT_PER_USER: '5',
    FU_LOG_LEVEL: 'error',
  });
  demo = await login(api.base, DEMO);
  fuzzToken = await login(api.base, DEMO);
});
after(async () => {
  await api?.stop();
  await db?.done();
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Case {
  what: string;
  route: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** The field the message must name (400), or the error code (413/415). */
  names: RegExp;
}

const position = (p: object) => ({
  equity: 1e6,
  positions: [{ symbol: 'SPY', position_type: 'LONG', quantity: 10, ...p }],
});

const CASES: Case[] = [
  { what: 'id beyond 32 bits', route: '/api/v1/portfolios/4294967296', status: 400, names: /"id"/ },
  {
    what: 'id of 20 digits',
    route: '/api/v1/portfolios/99999999999999999999/positions',
    status: 400,
    names: /"id"/,
  },
  { what: 'limit=Infinity', route: '/api/v1/data/symbols?limit=Infinity', status: 400, names: /"limit"/ },
  { what: 'offset=Infinity', route: '/api/v1/data/symbols?offset=Infinity', status: 400, names: /"offset"/ },
  { what: 'huge offset', route: '/api/v1/data/symbols?offset=1e300', status: 400, names: /"offset"/ },
  {
    what: 'huge legacy offset',
    route: '/api/v1/portfolios/1/positions/factor-exposures?offset=99999999999',
    status: 400,
    names: /"offset"/,
  },
  { what: 'NUL in q', route: '/api/v1/data/symbols?q=ab%00cd', status: 400, names: /"q"/ },
  {
    what: 'market cap 1e308',
    route: '/api/v1/data/symbols?min_market_cap=1e308',
    status: 400,
    names: /"min_market_cap"/,
  },
  { what: 'year 0000', route: '/api/v1/data/symbols?date=0000-01-01', status: 400, names: /"date"/ },
  { what: 'February 30', route: '/api/v1/data/symbols?date=2023-02-30', status: 400, names: /"date"/ },
  { what: 'month 13', route: '/api/v1/portfolios/1/snapshots?from=2024-13-01', status: 400, names: /"from"/ },
  {
    what: 'symbol of 300 characters',
    route: `/api/v1/data/symbols/${'A'.repeat(300)}`,
    status: 400,
    names: /"symbol"/,
  },
  {
    what: 'symbol of odd characters',
    route: '/api/v1/data/symbols/%E2%98%83%3B',
    status: 400,
    names: /"symbol"/,
  },
  {
    what: 'NUL in a username',
    route: '/api/v1/auth/login',
    body: { username: 'de\u0000mo', password: 'x' },
    status: 400,
    names: /"username"/,
  },
  {
    what: 'what-if quantity 1e308',
    route: '/api/v1/analytics/what-if',
    body: position({ quantity: 1e308 }),
    status: 400,
    names: /positions\/0\/quantity/,
  },
  {
    what: 'what-if equity 1e308',
    route: '/api/v1/analytics/what-if',
    body: { ...position({}), equity: 1e308 },
    status: 400,
    names: /"equity"/,
  },
  {
    what: 'what-if strike 1e308',
    route: '/api/v1/analytics/what-if',
    body: position({
      position_type: 'LC',
      quantity: 1,
      underlying_symbol: 'SPY',
      expiration_date: '2027-01-15',
      strike_price: 1e308,
    }),
    status: 400,
    names: /strike_price/,
  },
  {
    what: 'what-if dated 2999-01-01',
    route: '/api/v1/analytics/what-if',
    body: { ...position({}), date: '2999-01-01' },
    status: 400,
    names: /"date"/,
  },
  {
    what: 'what-if unknown symbol',
    route: '/api/v1/analytics/what-if',
    body: position({ symbol: 'NOSUCHSYM' }),
    status: 400,
    names: /positions\/0\/symbol/,
  },
  {
    what: 'what-if symbol of 300 characters',
    route: '/api/v1/analytics/what-if',
    body: position({ symbol: 'X'.repeat(300) }),
    status: 400,
    names: /positions\/0\/symbol/,
  },
  {
    what: 'what-if symbol with NUL and quotes',
    route: '/api/v1/analytics/what-if',
    body: position({ symbol: "A\u0000'; DROP" }),
    status: 400,
    names: /positions\/0\/symbol/,
  },
  {
    what: 'what-if unknown position type',
    route: '/api/v1/analytics/what-if',
    body: position({ position_type: 'XX' }),
    status: 400,
    names: /position_type/,
  },
  {
    what: 'broken JSON',
    route: '/api/v1/analytics/what-if',
    body: '{"equity": 1',
    status: 400,
    names: /JSON|body/i,
  },
  {
    what: 'a body that is not JSON',
    route: '/api/v1/analytics/what-if',
    body: '<x/>',
    headers: { 'content-type': 'application/xml' },
    status: 415,
    names: /^unsupported_media_type$/,
  },
  {
    what: 'a body of 2 MB',
    route: '/api/v1/auth/login',
    body: { username: 'demo', password: 'x'.repeat(2 * 1024 * 1024) },
    status: 413,
    names: /^payload_too_large$/,
  },
];

describe('malformed requests', () => {
  it('each answers its 4xx naming the field, never a 500; nothing is written', async () => {
    // Nothing lost: the portfolios and users read afterwards are those read before.
    const before = await call(api.base, '/api/v1/portfolios', { token: demo });
    const failures: string[] = [];
    for (const c of CASES) {
      const r = await call(api.base, c.route, {
        token: demo,
        body: c.body,
        headers: c.headers,
        method: c.method,
      }).catch((e: unknown) => {
        // An oversized body may be cut off by the server's 413 before the client has written it
        // all: the client then sees its write fail (EPIPE/ECONNRESET), which is the refusal too.
        const code = (e as { cause?: { code?: string } }).cause?.code;
        if (c.status === 413 && (code === 'EPIPE' || code === 'ECONNRESET'))
          return { status: 413, body: { error: 'payload_too_large' } };
        throw e;
      });
      const named = c.status === 400 ? String(r.body?.message) : String(r.body?.error);
      if (r.status !== c.status || !c.names.test(named))
        failures.push(`${c.what}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual((await call(api.base, '/api/v1/portfolios', { token: demo })).body, before.body);
    assert.equal(api.child.exitCode, null);
  });
});

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  format?: string;
}
interface Operation {
  parameters?: { name: string; in: 'path' | 'query'; required?: boolean; schema: Schema }[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  responses: Record<string, { content?: { 'application/json': { schema: Schema } } }>;
}

/** Values that have broken or fooled services before. */
const NASTY: unknown[] = [
  '',
  'Infinity',
  '-Infinity',
  'NaN',
  '1e308',
  -1e308,
  1e308,
  4294967296,
  2147483648,
  '99999999999999999999',
  -1,
  0,
  1.5,
  'abc',
  'x'.repeat(300),
  'A\u0000B',
  "'; DROP TABLE users; --",
  '2999-01-01',
  '0000-01-01',
  '2023-02-30',
  '2024-13-01',
  true,
  null,
  [],
  {},
];
const nasty = fc.constantFrom(...NASTY);

/** A value that fits `s` (roughly), to keep the other fields valid while one is broken. */
function plausible(s: Schema): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (s.format === 'date') return fc.constantFrom('2024-01-02', '2026-10-30');
  switch (type) {
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? 0, 0), max: Math.min(s.maximum ?? 50, 50) });
    case 'number':
      return fc.double({ min: Math.max(s.minimum ?? 1, 1), max: 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(plausible(s.items ?? {}), { minLength: 1, maxLength: 3 });
    case 'object':
      return fc.record(
        Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, plausible(v)])),
        { requiredKeys: s.required ?? [] },
      );
    default:
      return fc.constantFrom('SPY', 'LONG', 'demo', 'AAA');
  }
}

/** `plausible`, or with one field removed, replaced by a nasty value, or an unknown field added. */
function mutated(s: Schema): fc.Arbitrary<unknown> {
  return fc.oneof(
    nasty,
    plausible(s),
    fc
      .tuple(plausible(s), fc.nat(), nasty, fc.constantFrom('drop', 'nasty', 'extra'))
      .map(([v, i, x, how]) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return x;
        const keys = Object.keys(s.properties ?? {});
        if (keys.length === 0) return x;
        const key = keys[i % keys.length]!;
        const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        if (how === 'drop') delete copy[key];
        else if (how === 'nasty') copy[key] = x;
        else copy.unexpected = x;
        // one level deeper: the first position of a what-if
        const positions = copy.positions;
        if (
          how === 'nasty' &&
          Array.isArray(positions) &&
          positions.length > 0 &&
          s.properties?.positions?.items
        )
          positions[0] = {
            ...(positions[0] as object),
            [Object.keys(s.properties.positions.items.properties ?? {})[i % 5] ?? 'quantity']: x,
          };
        return copy;
      }),
  );
}

describe('a login flood', () => {
  it('a sixth attempt on one user within the window answers 429 with Retry-After; others still sign in', async () => {
    // Nothing lost: the limited user's correct password is refused only for the window; demo signs in.
    for (let i = 0; i < 5; i++)
      assert.equal(
        (
          await call(api.base, '/api/v1/auth/login', {
            body: { username: 'ops-admin', password: 'wrong-one' },
          })
        ).status,
        401,
      );
    const r = await call(api.base, '/api/v1/auth/login', {
      body: { username: 'ops-admin', password: 'ops-admin-password' },
    });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal((await call(api.base, '/api/v1/auth/login', { body: DEMO })).status, 200);
  });
  it('200 concurrent logins: /health keeps answering (hashing off the event loop, a limit per address)', async () => {
    // Nothing lost: every login gets its answer (up to the address's 60 a 401: unknown users; the rest
    // 429), every /health answers 200.
    const health: number[] = [];
    let flooding = true;
    const sampler = (async () => {
      while (flooding) {
        const r = await call(api.base, '/health');
        assert.equal(r.status, 200);
        health.push(r.ms);
        await sleep(20);
      }
    })();
    await sleep(100);
    const logins = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        call(api.base, '/api/v1/auth/login', { body: { username: `flood-${i}`, password: 'guess-guess' } }),
      ),
    );
    flooding = false;
    await sampler;
    const worst = Math.max(...health);
    const p95 = [...health].sort((a, b) => a - b)[Math.floor(health.length * 0.95)]!;
    const statuses = logins.map((l) => l.status);
    console.log(
      `/health during 200 logins: ${health.length} samples, median ${median(health).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${worst.toFixed(1)} ms; ` +
        `logins took up to ${Math.max(...logins.map((l) => l.ms)).toFixed(0)} ms`,
    );
    const n401 = statuses.filter((x) => x === 401).length;
    const n429 = statuses.filter((x) => x === 429).length;
    // Earlier tests of this file spent some of the address's 60 attempts of this minute.
    assert.ok(n401 + n429 === 200 && n429 >= 140 && n401 >= 1, JSON.stringify(statuses));
    // Behaviour, not latency (the figures above are printed; bench:api measures them): /health kept
    // answering 200 during the flood, several times over.
    assert.ok(health.length >= 3, `/health answered ${health.length} times during the flood`);
  });
});

describe('the OpenAPI document, fuzzed', () => {
  it('no 5xx; only declared statuses; bodies match their declared schemas', async () => {
    const token = fuzzToken;
    const served = (await call(api.base, '/docs/json')).body;
    const doc = (await SwaggerParser.dereference(structuredClone(served))) as unknown as {
      paths: Record<string, Record<string, Operation>>;
    };
    const routes = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api/') || p === '/health' || p === '/ready')
      .flatMap(([p, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ path: p, method: method.toUpperCase(), op })),
      );
    // Signing out everywhere or changing the password revokes the fuzzer's token: those routes go last.
    const revoking = (p: string) => /logout-all|password/.test(p);
    routes.sort((a, b) => Number(revoking(a.path)) - Number(revoking(b.path)));
    assert.ok(routes.length >= 14, `${routes.length} routes`);
    const problems: string[] = [];
    let sent = 0;
    const seen = new Map<string, Set<number>>();

    for (const route of routes) {
      const params = route.op.parameters ?? [];
      const body = route.op.requestBody?.content['application/json'].schema;
      const request = fc.record({
        token: fc.constantFrom<'good' | 'none' | 'garbage'>('good', 'good', 'good', 'none', 'garbage'),
        path: fc.record(
          Object.fromEntries(
            params
              .filter((x) => x.in === 'path')
              .map((x) => [
                x.name,
                fc.oneof(
                  // an empty segment would address another route (/portfolios/ is the list)
                  nasty.filter((v) => String(v) !== ''),
                  plausible(x.schema),
                  fc.constant(1),
                ),
              ]),
          ),
        ),
        query: fc.record(
          Object.fromEntries(
            params.filter((x) => x.in === 'query').map((x) => [x.name, fc.oneof(nasty, plausible(x.schema))]),
          ),
          { requiredKeys: [] },
        ),
        body: body ? mutated(body) : fc.constant(undefined),
      });
      const samples = fc.sample(request, { numRuns: 24, seed: 20261126 });
      for (const r of samples) {
        let url = route.path;
        for (const [k, v] of Object.entries(r.path))
          url = url.replace(`{${k}}`, encodeURIComponent(String(v)));
        const qs = new URLSearchParams(
          Object.entries(r.query).map(([k, v]): [string, string] => [
            k,
            typeof v === 'object' ? JSON.stringify(v) : String(v),
          ]),
        ).toString();
        const answer = await call(api.base, `${url}${qs ? `?${qs}` : ''}`, {
          method: route.method,
          token: r.token === 'good' ? token : r.token === 'garbage' ? 'garbage.token.here' : undefined,
          body: route.method === 'GET' ? undefined : (r.body ?? {}),
        });
        sent++;
        const key = `${route.method} ${route.path}`;
        if (!seen.has(key)) seen.set(key, new Set());
        seen.get(key)!.add(answer.status);
        const what = `${route.method} ${url}?${qs} ${JSON.stringify(r.body)?.slice(0, 120)} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`;
        if (answer.status >= 500) {
          problems.push(`5xx: ${what}`);
          continue;
        }
        const declared = route.op.responses[String(answer.status)];
        if (!declared) {
          problems.push(`undeclared status: ${what}`);
          continue;
        }
        const schema = declared.content?.['application/json']?.schema;
        // A fresh validator per answer: ajv 6 may mix up look-alike schemas in its cache.
        const ajv = new Ajv({ unknownFormats: 'ignore', nullable: true, allErrors: true });
        if (schema && !ajv.validate(schema, answer.body))
          problems.push(
            `body does not match its schema (${ajv.errorsText()}): ${what} ${JSON.stringify(schema).slice(0, 200)}`,
          );
      }
    }
    console.log(`${sent} requests over ${routes.length} routes; statuses seen:`);
    for (const [k, v] of seen) console.log(`  ${k}: ${[...v].sort().join(' ')}`);
    assert.deepEqual(problems, []);
  });
});
