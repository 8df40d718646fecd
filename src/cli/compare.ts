import { writeFileSync } from 'node:fs';
import { compareDualWrite } from '../legacy/compare.ts';
import { dateOption, str, type CommandModule } from './options.ts';

export const compare: CommandModule = {
  options: { 'start-date': { type: 'string' }, 'end-date': { type: 'string' }, output: { type: 'string' } },
  run: async ({ values, db }) => {
    const start = dateOption(values, 'start-date');
    const end = dateOption(values, 'end-date');
    const d = await db();
    const report = await compareDualWrite(d.pool, start, end);
    const output = str(values, 'output');
    if (output) writeFileSync(output, JSON.stringify(report, null, 2) + '\n');
    console.log(
      `${report.dates_analyzed} dates, ${report.total_comparisons} position comparisons: match rate ${(report.match_rate * 100).toFixed(2)}%, ` +
        `${report.discrepancies.length} discrepancies, ${report.missing_symbols.length} missing symbols, ${report.missing_legacy.length} missing legacy rows; ` +
        `portfolio aggregates ${(report.portfolio_comparison.match_rate * 100).toFixed(2)}% of ${report.portfolio_comparison.total_comparisons}`,
    );
    for (const x of report.discrepancies.slice(0, 10)) {
      console.log(
        `  ${x.date} position ${x.position_id} ${x.symbol} ${x.factor} ${x.field}: symbol ${x.symbol_value} vs position ${x.position_value}`,
      );
    }
    console.log(`Recommendation: ${report.recommendation}${output ? ` (report: ${output})` : ''}`);
    return report.recommendation === 'SAFE_TO_DEPRECATE' ? 0 : 1;
  },
};
