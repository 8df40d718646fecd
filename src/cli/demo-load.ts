import path from 'node:path';
import { loadDemoMarket } from '../demo/load.ts';
import { positiveNumber, type CommandModule } from './options.ts';

export const demoLoad: CommandModule = {
  options: { stocks: { type: 'string' }, seed: { type: 'string' } },
  run: async ({ values, config, db }) => {
    const stocks = positiveNumber(values, 'stocks');
    const seed = positiveNumber(values, 'seed');
    const { dataDir, demoPassword } = config();
    const d = await db();
    const r = await loadDemoMarket(d.db, d.pool, path.join(dataDir, 'demo'), demoPassword, { stocks, seed });
    console.log(
      `Demo market: ${r.symbols} symbols × ${r.dates} days, ${r.portfolios} portfolios; files in ${r.folder}`,
    );
    return 0;
  },
};
