/**
 * Routes import only from below them: no file under src/api/routes imports server.ts (the circle
 * server.ts ⇄ routes/* is gone; ApiError comes from errors.ts, app.deps' type from deps.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const ROUTES = new URL('../src/api/routes/', import.meta.url);

test('no route module imports the server that registers it', () => {
  const files = readdirSync(ROUTES).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 5, 'the route modules are found');
  for (const f of files) {
    const text = readFileSync(new URL(f, ROUTES), 'utf8');
    const specifiers = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1] ?? '');
    assert.ok(specifiers.length > 0, `${f} has imports`);
    for (const s of specifiers) assert.doesNotMatch(s, /(^|\/)server(\.ts)?$/, `${f} imports ${s}`);
  }
});
