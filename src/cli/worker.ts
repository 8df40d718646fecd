import { interrupted, startWorker } from '../workers/worker.ts';
import { positiveNumber, type CommandModule } from './options.ts';

export const worker: CommandModule = {
  options: { concurrency: { type: 'string' } },
  run: async ({ values, config, db }) => {
    const d = await db();
    const concurrency = positiveNumber(values, 'concurrency') ?? config().workerConcurrency;
    const engine = await startWorker(d, config(), { concurrency: Math.floor(concurrency) });
    console.error(`worker: ${concurrency} job(s) at a time on ${d.location}; Ctrl-C stops`);
    await interrupted('the worker: finishing the job in hand (10 s at most)');
    await engine.stop();
    return 0;
  },
};
