/**
 * A schema-driven fuzzer: requests generated from the OpenAPI document the server itself serves
 * (/docs/json) — missing fields, wrong types, numbers out of range, ids beyond 32 bits, impossible
 * dates, NUL bytes, no or a garbage token — against a real server process. Every answer must be
 * below 500, one of the statuses the document declares for that route, with a body matching the
 * schema declared for that status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import fc from 'fast-check';
import { DEMO, call, login, startApi, startDatabase, type Api, type Database } from './helpers/stack.ts';

let db: Database;
let api: Api;
let token: string;

before(async () => {
  db = await startDatabase();
  api = await startApi({
    DATABASE_URL: db.appUrl,
    FU_LOG_LEVEL: 'error',
    FU_LOGIN_LIMIT_PER_ADDRESS: '100000',
  });
  token = await login(api.base, DEMO);
});
after(async () => {
  await api?.stop();
  await db?.done();
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

describe('the OpenAPI document, fuzzed', () => {
  it('no 5xx; only declared statuses; bodies match their declared schemas', async () => {
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
