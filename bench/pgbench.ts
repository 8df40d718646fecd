import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DASHBOARD_COLUMNS, dashboardSql, type DashboardSort } from '../src/metrics/dashboard.ts';

/** The sort columns the dashboard benchmark turns through (a page of 100 rows each, every column). */
export const DASHBOARD_SORTS: DashboardSort[] = [
  'factor_market_beta',
  'return_1y',
  'pe_ratio',
  'market_cap',
  'symbol',
];

export const dashboardPagePath = (sort: DashboardSort) =>
  `/api/v1/data/symbols?sort_by=${sort}&sort_order=desc&limit=100&fields=${DASHBOARD_COLUMNS.join(',')}`;

/** The route's SQL for one sort, with its parameters written in as literals (pgbench sends text). */
function pageSql(sort: DashboardSort): string {
  const { text, values } = dashboardSql({
    sortBy: sort,
    sortOrder: 'desc',
    limit: 100,
    offset: 0,
    columns: DASHBOARD_COLUMNS,
  });
  return `${text.replace(/\$(\d+)/g, (_, i: string) => {
    const v = values[Number(i) - 1];
    return typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`;
  })};\n`;
}

const pgbenchBinary = () =>
  [
    '/usr/bin/pgbench',
    ...readdirSync('/usr/lib/postgresql', { withFileTypes: true }).map(
      (d) => `/usr/lib/postgresql/${d.name}/bin/pgbench`,
    ),
  ].find((p) => spawnSync(p, ['--version']).status === 0);

/**
 * PostgreSQL alone running the dashboard route's SQL: `pgbench -c 50` over the same sorts, for
 * `seconds`; the rate and the p99 latency from the per-transaction log. Null when pgbench is absent.
 */
export async function pgbenchDashboard(
  url: string,
  seconds: number,
): Promise<{ tps: number; p99: number; command: string } | null> {
  let binary: string | undefined;
  try {
    binary = pgbenchBinary();
  } catch {
    binary = spawnSync('/usr/bin/pgbench', ['--version']).status === 0 ? '/usr/bin/pgbench' : undefined;
  }
  if (!binary) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'fu-pgbench-'));
  try {
    const files = DASHBOARD_SORTS.map((sort) => {
      const file = path.join(dir, `${sort}.sql`);
      writeFileSync(file, pageSql(sort));
      return file;
    });
    const args = [
      '-n',
      '-c',
      '50',
      '-j',
      '2',
      '-T',
      String(seconds),
      '-l',
      `--log-prefix=${path.join(dir, 'log')}`,
    ];
    for (const f of files) args.push('-f', f);
    const run = spawnSync(binary, [...args, url], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr}`);
    const tps = Number(run.stdout.match(/tps = ([\d.]+)/)?.[1]);
    const latencies: number[] = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('log'))) {
      for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us) && line) latencies.push(us / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN;
    return {
      tps,
      p99,
      command: `pgbench -n -c 50 -j 2 -T ${seconds} -f <${DASHBOARD_SORTS.length} queries>`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
