import { serve as serveApi } from '../api/serve.ts';
import { positiveNumber, type CommandModule } from './options.ts';

export const serve: CommandModule = {
  options: { port: { type: 'string' } },
  run: async ({ values, config, db }) => {
    const port = positiveNumber(values, 'port');
    // the API's pool: statements and checkouts bounded by the API's timeouts (503 beyond), not a command's
    await serveApi(await db({ api: true }), config(), port);
    return 0;
  },
};
