import { runFactors } from '../factors/run.ts';
import { dateOption, positiveNumber, type CommandModule } from './options.ts';

export const factorsRun: CommandModule = {
  options: {
    date: { type: 'string' },
    force: { type: 'boolean' },
    'batch-size': { type: 'string' },
    concurrency: { type: 'string' },
  },
  run: async ({ values, config, db }) => {
    const date = dateOption(values);
    const batchSize = positiveNumber(values, 'batch-size') ?? config().factorBatchSize;
    const maxConcurrentBatches = positiveNumber(values, 'concurrency') ?? config().maxConcurrentBatches;
    const d = await db();
    const r = await runFactors(d.db, d.pool, {
      date,
      force: values.force === true,
      batchSize,
      maxConcurrentBatches,
    });
    const skipped = Object.entries(r.skipped).filter(([, n]) => n > 0);
    console.log(
      `Factors for ${r.calculationDate}${r.calculationDate !== r.requestedDate ? ` (last trading day on or before ${r.requestedDate})` : ''}: ` +
        `${r.symbols} symbols in ${r.batches} batches, ${r.betasWritten} betas written` +
        (skipped.length
          ? `, not computable: ${skipped.map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`).join(', ')}`
          : '') +
        (r.alreadyCached ? `; ${r.alreadyCached} symbols already cached (use --force to recompute)` : '') +
        `\nTimings: load ${r.timings.loadMs.toFixed(0)} ms, compute ${r.timings.computeMs.toFixed(0)} ms, write ${r.timings.writeMs.toFixed(0)} ms`,
    );
    for (const f of r.failures) console.error(`Batch failed (${f.symbols.join(', ')}): ${f.error}`);
    return r.failures.length ? 1 : 0;
  },
};
