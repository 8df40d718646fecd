import path from 'node:path';
import { ImportError } from '../imports/csv.ts';
import { importPrices as importPricesFiles } from '../imports/prices.ts';
import { onePath, type CommandModule } from './options.ts';

export const importPrices: CommandModule = {
  run: async ({ positionals, db }) => {
    const target = onePath(
      positionals,
      'a prices CSV (symbol,date,close…), a .csv.gz, or a folder of SYMBOL.csv',
      'file or folder',
    );
    const d = await db();
    const started = performance.now();
    const summary = await importPricesFiles(d.pool, target, (r) => {
      if (r instanceof ImportError) {
        console.error(r.message);
        return;
      }
      console.log(
        `${path.basename(r.file)}: ${r.rows} rows, ${r.symbols} symbols: ${r.inserted} new, ${r.updated} changed, ${r.unchanged} unchanged`,
      );
      if (r.revised.length > 0) {
        const sum = (k: 'betas' | 'metrics' | 'repriced') => r.revised.reduce((a, x) => a + x[k], 0);
        console.log(
          `  revised history of ${r.revised.length} symbol(s) (${r.revised
            .slice(0, 5)
            .map((x) => `${x.symbol} from ${x.firstChanged}`)
            .join(
              ', ',
            )}${r.revised.length > 5 ? ', …' : ''}): ${sum('betas')} betas and ${sum('metrics')} metric rows ` +
            `to recompute, ${sum('repriced')} repriced (market_data_revisions)`,
        );
      }
    });
    const files = summary.results.length + summary.failures.length;
    console.log(
      `${summary.results.length} of ${files} file(s) imported in ${((performance.now() - started) / 1000).toFixed(1)} s` +
        (summary.failures.length ? `; ${summary.failures.length} rejected` : ''),
    );
    return summary.failures.length ? 1 : 0;
  },
};
