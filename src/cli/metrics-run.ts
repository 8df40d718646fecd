import { runMetrics } from '../metrics/run.ts';
import { dateOption, type CommandModule } from './options.ts';

export const metricsRun: CommandModule = {
  options: { date: { type: 'string' } },
  run: async ({ values, db }) => {
    const date = dateOption(values);
    const d = await db();
    const r = await runMetrics(d.db, d.pool, date);
    console.log(
      `Metrics for ${r.metricDate}: ${r.symbols} symbols, ${r.written} rows written ` +
        `(load ${r.timings.loadMs.toFixed(0)} ms, compute ${r.timings.computeMs.toFixed(0)} ms, write ${r.timings.writeMs.toFixed(0)} ms)`,
    );
    return 0;
  },
};
