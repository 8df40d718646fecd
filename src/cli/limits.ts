import { loadLimitsOf } from '../portfolios/benchmark-store.ts';
import { limitStates, newestComputedDate, storedLimitInputs } from '../portfolios/limits-repo.ts';
import { findPortfolio } from '../risk/store.ts';
import { formatTable } from '../table.ts';
import { optionalDate, UsageError, type CommandModule } from './options.ts';

/**
 * `factor-universe limits PORTFOLIO [--date D]`: the portfolio's limits with their values and state on
 * its newest computed date (on or before D), from the stored figures (METHODOLOGY.md 15).
 */
const fmt = (x: number | null) => (x === null ? '' : Math.abs(x) >= 1000 ? x.toFixed(0) : x.toFixed(4));

export const limits: CommandModule = {
  options: { date: { type: 'string' } },
  run: async ({ values, positionals, db }) => {
    if (positionals.length !== 1) throw new UsageError('expected one portfolio (id or name)');
    const asked = optionalDate(values, 'date');
    const d = await db();
    const p = await findPortfolio(d.pool, positionals[0]!);
    if (!p) {
      console.error(`no portfolio "${positionals[0]}"`);
      return 1;
    }
    const list = (await loadLimitsOf(d.pool, [p.id])).get(p.id) ?? [];
    const date = await newestComputedDate(d.pool, p.id, asked);
    const states = limitStates(list, date ? await storedLimitInputs(d.pool, p.id, date) : null);
    console.log(
      `Limits of ${p.name} on ${date ?? 'no computed date yet'}: ${list.length}, ` +
        `${states.filter((s) => s.breached).length} breached\n`,
    );
    if (list.length === 0) return 0;
    console.log(
      formatTable(
        ['id', 'name', 'metric', 'lower', 'upper', 'value', 'state'],
        states.map((s) => [
          String(s.id),
          s.name,
          s.metric === 'var'
            ? `var ${s.method} ${s.confidence}`
            : s.factor
              ? `${s.metric} ${s.factor}`
              : s.metric,
          fmt(s.lower),
          fmt(s.upper),
          fmt(s.value),
          s.value === null ? 'n/a' : s.breached ? 'BREACHED' : 'ok',
        ]),
      ),
    );
    return 0;
  },
};
