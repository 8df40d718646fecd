import { startWorker } from '../workers/worker.ts';
import { positiveNumber, type CommandModule } from './options.ts';

export const worker: CommandModule = {
  options: { concurrency: { type: 'string' } },
  run: async ({ values, config, db, signal }) => {
    const d = await db();
    const concurrency = Math.floor(positiveNumber(values, 'concurrency') ?? config().workerConcurrency);
    const engine = await startWorker(d, config(), { concurrency });
    console.error(`worker: ${concurrency} job(s) at a time on ${d.location}; Ctrl-C stops`);
    // Ctrl-C / SIGTERM: stop taking jobs, finish the one in hand (or leave it to expire and be retried)
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    await engine.stop(8_000);
    return 0;
  },
};
