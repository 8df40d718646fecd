import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadReportData } from '../reports/data.ts';
import { renderPdf } from '../reports/pdf.ts';
import { renderXlsx } from '../reports/xlsx.ts';
import { findPortfolio } from '../risk/store.ts';
import { optionalDate, str, UsageError, type CommandModule } from './options.ts';

/** `factor-universe report PORTFOLIO --date D --format xlsx|pdf --output FILE`: the API's reports, to a file. */
export const report: CommandModule = {
  options: { date: { type: 'string' }, format: { type: 'string' }, output: { type: 'string' } },
  run: async ({ values, positionals, db, config }) => {
    if (positionals.length !== 1) throw new UsageError('expected one portfolio (id or name)');
    const date = optionalDate(values, 'date');
    const format = str(values, 'format') ?? 'pdf';
    if (format !== 'xlsx' && format !== 'pdf')
      throw new UsageError(`--format must be xlsx or pdf, got "${format}"`);
    const output = str(values, 'output');
    if (!output) throw new UsageError('--output FILE is required');
    const d = await db();
    const p = await findPortfolio(d.pool, positionals[0]!);
    if (!p) {
      console.error(`no portfolio "${positionals[0]}"`);
      return 1;
    }
    const data = await loadReportData(d.pool, p.id, date, config().benchmark);
    if (!data) {
      console.error(
        `no computed date of ${p.name} on or before ${date ?? 'today'}: run "factor-universe batch run" first`,
      );
      return 1;
    }
    const body = format === 'xlsx' ? await renderXlsx(data) : await renderPdf(data);
    writeFileSync(path.resolve(output), body);
    console.log(
      `${format.toUpperCase()} report of ${p.name} on ${data.date}: ${path.resolve(output)} (${body.length} bytes)`,
    );
    return 0;
  },
};
