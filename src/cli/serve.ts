import { serve as serveApi } from '../api/serve.ts';
import { positiveNumber, type CommandModule } from './options.ts';

export const serve: CommandModule = {
  options: { port: { type: 'string' } },
  run: async ({ values, config, db }) => {
    const port = positiveNumber(values, 'port');
    await serveApi(await db(), config(), port);
    return 0;
  },
};
