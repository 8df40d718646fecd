import { parseReadPath } from '../config.ts';
import { runPortfolios } from '../portfolios/run.ts';
import { dateOption, str, UsageError, type CommandModule } from './options.ts';

export const portfoliosRun: CommandModule = {
  options: { date: { type: 'string' }, 'read-path': { type: 'string' } },
  run: async ({ values, config, db }) => {
    const date = dateOption(values);
    const option = str(values, 'read-path');
    let readPath = config().readPath;
    if (option !== undefined) {
      try {
        readPath = parseReadPath(option);
      } catch (e) {
        throw new UsageError(`--read-path: ${(e as Error).message}`);
      }
    }
    const d = await db();
    const r = await runPortfolios(d.db, d.pool, {
      date,
      readPath,
      maxConcurrentBatches: config().maxConcurrentBatches,
    });
    console.log(
      `Portfolios for ${r.date} (betas of ${r.betasDate ?? 'none'}): ${r.portfolios} portfolios, ${r.positions} positions ` +
        `(load ${r.timings.loadMs.toFixed(0)} ms, compute ${r.timings.computeMs.toFixed(0)} ms, write ${r.timings.writeMs.toFixed(0)} ms)`,
    );
    for (const f of r.failures) console.error(`Portfolios ${f.portfolioIds.join(', ')} failed: ${f.error}`);
    return r.failures.length ? 1 : 0;
  },
};
