import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { PipelineEngine } from '../pipeline/engine.ts';

/**
 * A pipeline worker: works the job queue of the database it is given until `stop`. Stateless: start
 * any number, on any machine, with the same database; each takes jobs as it is free.
 */
export async function startWorker(
  d: Db,
  config: Config,
  options: { concurrency?: number; schedule?: boolean; log?: (line: string) => void } = {},
): Promise<PipelineEngine> {
  const engine = await PipelineEngine.open(d, config, {
    log: options.log,
    supervise: true,
    schedule: options.schedule ?? true,
  });
  engine.work(options.concurrency ?? config.workerConcurrency);
  return engine;
}
