import { importPortfolio as importPortfolioFile } from '../imports/portfolio.ts';
import { onePath, positiveNumber, str, UsageError, type CommandModule } from './options.ts';

export const importPortfolio: CommandModule = {
  options: {
    name: { type: 'string' },
    owner: { type: 'string' },
    equity: { type: 'string' },
    currency: { type: 'string' },
  },
  run: async ({ values, positionals, db }) => {
    const name = str(values, 'name');
    const owner = str(values, 'owner');
    if (!name || !owner) throw new UsageError('--name and --owner are required');
    const currency = str(values, 'currency');
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency))
      throw new UsageError('--currency must be a 3-letter ISO code');
    const equity = positiveNumber(values, 'equity');
    const file = onePath(positionals, 'a portfolio positions CSV');
    const d = await db();
    const r = await importPortfolioFile(d.pool, file, { name, owner, equity, currency });
    console.log(
      `Portfolio "${name}" (id ${r.portfolioId}${r.created ? ', new' : ''}): ${r.positions} positions: ` +
        `${r.inserted} new, ${r.updated} changed, ${r.deleted} removed`,
    );
    return 0;
  },
};
