import { importCompanies as importCompaniesFile } from '../imports/companies.ts';
import { onePath, type CommandModule } from './options.ts';

export const importCompanies: CommandModule = {
  run: async ({ positionals, db }) => {
    const file = onePath(positionals, 'a company profiles CSV (the columns of companies.csv)');
    const d = await db();
    const r = await importCompaniesFile(d.pool, file);
    console.log(`${r.rows} companies: ${r.written} written, ${r.unchanged} unchanged`);
    return 0;
  },
};
