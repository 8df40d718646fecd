import { readFileSync } from 'node:fs';
// Imported, not read from beside this file, so that the compiled bundle (dist/) carries it.
import BUILT_IN from './scenarios.json' with { type: 'json' };

/**
 * Stress scenarios as data (METHODOLOGY.md 12): a JSON array a user can extend, validated at load
 * with errors naming the file, the scenario and the field.
 *
 *   { "name": "Market -10%", "kind": "shock", "shocks": { "SPY": -0.1 }, "correlated": true }
 *   { "name": "COVID crash", "kind": "historical", "start": "2020-02-19", "end": "2020-03-23" }
 *
 * A shock scenario gives horizon returns for some proxies (any symbol may be named; one that is
 * none of the model's proxies moves nothing); `correlated` (default true) lets the unshocked proxies
 * take their conditional expectation.
 */
export type Scenario =
  | { name: string; description: string; kind: 'shock'; shocks: Record<string, number>; correlated: boolean }
  | { name: string; description: string; kind: 'historical'; start: string; end: string };

const ISO = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: unknown): s is string =>
  typeof s === 'string' && ISO.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

/** Checks parsed JSON; throws one error listing every problem, each naming scenario and field. */
export function parseScenarios(parsed: unknown, source: string): Scenario[] {
  if (!Array.isArray(parsed)) throw new Error(`${source}: expected a JSON array of scenarios`);
  const problems: string[] = [];
  const names = new Set<string>();
  const out: Scenario[] = [];
  parsed.forEach((raw: unknown, i) => {
    const where = `${source}: scenario ${i + 1}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${where}: expected an object`);
      return;
    }
    const s = raw as Record<string, unknown>;
    const name = typeof s.name === 'string' ? s.name.trim() : '';
    const at = name ? `${where} ("${name}")` : where;
    if (!name) problems.push(`${where}: "name" must be a non-empty string`);
    else if (names.has(name)) problems.push(`${at}: "name" repeats an earlier scenario`);
    names.add(name);
    if (s.description !== undefined && typeof s.description !== 'string')
      problems.push(`${at}: "description" must be a string`);
    const description = typeof s.description === 'string' ? s.description : '';
    const allowed =
      s.kind === 'shock'
        ? ['name', 'description', 'kind', 'shocks', 'correlated']
        : ['name', 'description', 'kind', 'start', 'end'];
    for (const key of Object.keys(s))
      if (!allowed.includes(key)) problems.push(`${at}: unknown field "${key}" for kind "${String(s.kind)}"`);
    if (s.kind === 'shock') {
      const shocks = s.shocks;
      if (
        shocks === null ||
        typeof shocks !== 'object' ||
        Array.isArray(shocks) ||
        !Object.keys(shocks).length
      ) {
        problems.push(`${at}: "shocks" must be an object of symbol → return, with at least one entry`);
        return;
      }
      for (const [symbol, v] of Object.entries(shocks as Record<string, unknown>)) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= -1)
          problems.push(
            `${at}: shocks."${symbol}" must be a finite return above -1, got ${JSON.stringify(v)}`,
          );
      }
      if (s.correlated !== undefined && typeof s.correlated !== 'boolean')
        problems.push(`${at}: "correlated" must be true or false`);
      out.push({
        name,
        description,
        kind: 'shock',
        shocks: shocks as Record<string, number>,
        correlated: s.correlated !== false,
      });
    } else if (s.kind === 'historical') {
      if (!validDate(s.start)) problems.push(`${at}: "start" must be a date YYYY-MM-DD`);
      if (!validDate(s.end)) problems.push(`${at}: "end" must be a date YYYY-MM-DD`);
      if (validDate(s.start) && validDate(s.end) && !(s.start < s.end))
        problems.push(`${at}: "start" must be before "end"`);
      out.push({ name, description, kind: 'historical', start: String(s.start), end: String(s.end) });
    } else {
      problems.push(`${at}: "kind" must be "shock" or "historical", got ${JSON.stringify(s.kind)}`);
    }
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return out;
}

/** The scenarios of `file`, or the built-in ones (scenarios.json beside this module). */
export function loadScenarios(file?: string | URL): Scenario[] {
  if (file === undefined) return parseScenarios(BUILT_IN, 'the built-in scenarios.json');
  const source = file instanceof URL ? file.pathname : file;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  return parseScenarios(parsed, source);
}
