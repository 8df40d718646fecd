import { readFileSync } from 'node:fs';
import type { FactorDef } from '../factors/model.ts';
// Imported, not read from beside this file, so that the compiled bundle (dist/) carries it.
import DEFAULT_SCENARIOS from './scenarios.json' with { type: 'json' };

/**
 * Factor-shock stress tests: scenario P&L = Σ over factors of dollar exposure × shock.
 * A scenario shocks factors by name, or proxies by symbol (`proxyShocks`), which then apply to every
 * factor whose long proxy is that symbol; a scenario that touches no factor of the model is
 * reported as not applicable rather than as a zero loss.
 *
 * Example: dollar exposure to Market Beta 1,000,000 and "Market -10%" → P&L −100,000.
 */
export interface Scenario {
  name: string;
  description: string;
  shocks?: Record<string, number>;
  proxyShocks?: Record<string, number>;
}

/** The scenarios of `file`, or the built-in ones (scenarios.json beside this module). */
export function loadScenarios(file?: string | URL): Scenario[] {
  const parsed = (
    file === undefined ? DEFAULT_SCENARIOS : JSON.parse(readFileSync(file, 'utf8'))
  ) as Scenario[];
  if (!Array.isArray(parsed))
    throw new Error(`${String(file ?? 'scenarios.json')}: expected a JSON array of scenarios`);
  for (const [i, s] of parsed.entries()) {
    if (typeof s.name !== 'string' || !s.name)
      throw new Error(`${String(file ?? 'scenarios.json')}: scenario ${i + 1} has no name`);
    for (const [k, v] of Object.entries({ ...s.shocks, ...s.proxyShocks })) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(
          `${String(file ?? 'scenarios.json')}: scenario "${s.name}": shock of ${k} is not a number`,
        );
    }
  }
  return parsed;
}

/** The shock per factor (model order) a scenario implies; null when it touches no factor of the model. */
export function scenarioShocks(s: Scenario, factors: readonly FactorDef[]): Float64Array | null {
  const out = new Float64Array(factors.length);
  let touched = false;
  factors.forEach((f, i) => {
    const shock = s.shocks?.[f.name] ?? (f.shortProxy === null ? s.proxyShocks?.[f.longProxy] : undefined);
    if (shock !== undefined) {
      out[i] = shock;
      touched = true;
    }
  });
  return touched ? out : null;
}

/** A scenario that touches the model: its shock per factor (model order) and, for the record, by name. */
export interface AppliedScenario {
  name: string;
  shocks: Float64Array;
  byFactor: Record<string, number>;
}

/** The scenarios that apply to the model, with their shocks worked out once for a whole run. */
export function applyScenarios(
  scenarios: readonly Scenario[],
  factors: readonly FactorDef[],
): AppliedScenario[] {
  return scenarios.flatMap((s) => {
    const shocks = scenarioShocks(s, factors);
    if (!shocks) return [];
    const byFactor = Object.fromEntries(factors.flatMap((f, i) => (shocks[i] ? [[f.name, shocks[i]!]] : [])));
    return [{ name: s.name, shocks, byFactor }];
  });
}

export function scenarioPnl(dollarExposure: Float64Array, shocks: Float64Array): number {
  let pnl = 0;
  for (let f = 0; f < shocks.length; f++) pnl += dollarExposure[f]! * shocks[f]!;
  return pnl;
}
