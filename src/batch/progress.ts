import type { DateReport } from './runner.ts';

/**
 * Backfill progress for people: a bar redrawn in place on a terminal (dates done / total, symbols per
 * second, ETA), one plain line per date otherwise (logs, CI).
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr) {
  const started = performance.now();
  let symbols = 0;
  return (report: DateReport, done: number, total: number, dateSymbols: number): void => {
    symbols += dateSymbols;
    const elapsed = (performance.now() - started) / 1000;
    const rate = symbols / Math.max(elapsed, 1e-3);
    const eta = (elapsed / done) * (total - done);
    const failed = report.phases.filter((p) => p.status === 'failed').map((p) => `${p.phase}: ${p.error}`);
    const summary = `${done}/${total} dates  ${Math.round(rate).toLocaleString('en-US')} symbols/s  ETA ${formatSeconds(eta)}`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${summary} (${report.date})  `);
      if (done === total || failed.length) stream.write('\n');
    } else {
      const phases = report.phases
        .map((p) => `${p.phase} ${p.status}${p.itemsFailed ? ` (${p.itemsFailed} failed)` : ''}`)
        .join(', ');
      stream.write(`${report.date}: ${phases} | ${summary}\n`);
    }
    for (const f of failed) stream.write(`  ${report.date} failed in ${f}\n`);
  };
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
}
