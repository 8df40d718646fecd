import { importPortfolio as importPortfolioFile } from '../imports/portfolio.ts';
import type { BenchmarkRef } from '../portfolios/benchmark.ts';
import { BenchmarkProblem, ownerOf, setBenchmark } from '../portfolios/limits-repo.ts';
import { onePath, positiveNumber, str, UsageError, type CommandModule } from './options.ts';

export const importPortfolio: CommandModule = {
  options: {
    name: { type: 'string' },
    owner: { type: 'string' },
    equity: { type: 'string' },
    currency: { type: 'string' },
    benchmark: { type: 'string' },
  },
  run: async ({ values, positionals, db }) => {
    const name = str(values, 'name');
    const owner = str(values, 'owner');
    if (!name || !owner) throw new UsageError('--name and --owner are required');
    const currency = str(values, 'currency');
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency))
      throw new UsageError('--currency must be a 3-letter ISO code');
    const equity = positiveNumber(values, 'equity');
    const benchmark = parseBenchmark(str(values, 'benchmark'));
    const file = onePath(positionals, 'a portfolio positions CSV');
    const d = await db();
    const r = await importPortfolioFile(d.pool, file, { name, owner, equity, currency });
    console.log(
      `Portfolio "${name}" (id ${r.portfolioId}${r.created ? ', new' : ''}): ${r.positions} positions: ` +
        `${r.inserted} new, ${r.updated} changed, ${r.deleted} removed`,
    );
    if (benchmark) {
      try {
        await setBenchmark(d.pool, r.portfolioId, await ownerOf(d.pool, r.portfolioId), benchmark);
      } catch (e) {
        if (!(e instanceof BenchmarkProblem)) throw e;
        console.error(`--benchmark: ${e.message}`);
        return 1;
      }
      console.log(
        `Benchmark: ${'symbol' in benchmark ? benchmark.symbol : `portfolio ${benchmark.portfolio_id}`}`,
      );
    }
    return 0;
  },
};

/** `SPY` (a symbol) or `portfolio:12` (another portfolio of the same owner). */
function parseBenchmark(v: string | undefined): BenchmarkRef | undefined {
  if (v === undefined) return undefined;
  const m = /^portfolio:(\d{1,9})$/.exec(v);
  if (m) return { portfolio_id: Number(m[1]) };
  if (!/^[A-Za-z0-9.^=-]{1,20}$/.test(v))
    throw new UsageError(`--benchmark must be a symbol or portfolio:ID, got "${v}"`);
  return { symbol: v.toUpperCase() };
}
