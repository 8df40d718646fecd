import { runMainJob } from '../main-job.ts';
import type { CommandModule } from './options.ts';

export const start: CommandModule = {
  options: { 'no-serve': { type: 'boolean' } },
  run: async ({ values, config }) => runMainJob(config(), { serve: values['no-serve'] !== true }),
};
