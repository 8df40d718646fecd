import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateDemoMarket } from '../src/demo/market.ts';
import pg from 'pg';
import { connect, type Db } from '../src/db/connection.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startThrowawayServer } from '../src/db/throwaway.ts';

const scratch: string[] = [];

/** A scratch folder in the temp directory, removed with the benchmark's server (`benchServer().done`). */
export function scratchFolder(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** A throwaway embedded server for one benchmark script; `done` removes it and the scratch folders. */
export async function benchServer() {
  const { server, done } = await startThrowawayServer('fu-bench-');
  return {
    server,
    done: async () => {
      await done();
      for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new, empty, migrated database on the server. */
export async function freshDatabase(adminUrl: string, name: string): Promise<Db> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const { db, pool } = connect(url.toString(), 10);
  await migrateToLatest(db);
  return { db, pool, location: name, close: () => db.destroy() };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Prints a Markdown table: one row per measurement, runs in ms and their median. */
export function printTable(title: string, rows: { name: string; runsMs: number[]; note?: string }[]): void {
  console.log(`\n### ${title}\n`);
  console.log('| measurement | runs (s) | median (s) | note |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) {
    const runs = r.runsMs.map((x) => (x / 1000).toFixed(2)).join(', ');
    console.log(`| ${r.name} | ${runs} | ${(median(r.runsMs) / 1000).toFixed(2)} | ${r.note ?? ''} |`);
  }
}

/**
 * Generates a demo universe and writes it as a prices CSV. Only the file name and a few facts are
 * returned: the generated series would otherwise stay on the heap and slow every later GC.
 */
export function writeGeneratedUniverse(
  stocks: number,
  days?: number,
): { file: string; dates: string[]; stocks: string[]; lastClose: Map<string, number> } {
  const m = generateDemoMarket({ stocks, ...(days ? { days } : {}) });
  const file = path.join(scratchFolder('fu-bench-market-'), `${stocks}-${m.dates.length}.csv`);
  const lines: string[] = ['symbol,date,close'];
  m.symbols.forEach((s, i) => m.dates.forEach((d, t) => lines.push(`${s},${d},${m.closes[i]![t]}`)));
  writeFileSync(file, lines.join('\n'));
  return {
    file,
    dates: m.dates,
    stocks: m.stocks.map((s) => s.symbol),
    lastClose: new Map(m.symbols.map((s, i) => [s, m.closes[i]![m.dates.length - 1]!])),
  };
}

/**
 * PostgreSQL alone, the anchor every write figure is printed beside: `psql \copy` of rows already in
 * `table` (dumped to a file first, then the table emptied) back into the same table. Returns the
 * load's wall time (psql's start included, a few ms) and the rows.
 */
export async function postgresAloneCopy(
  url: string,
  table: string,
  format: 'binary' | 'text' = 'binary',
  into = table,
): Promise<{ ms: number; rows: number; bytes: number }> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const dir = mkdtempSync(path.join(tmpdir(), 'fu-bench-copy-'));
  const file = path.join(dir, `${table}.${format}`);
  try {
    const psql = (cmd: string) =>
      execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', cmd], { stdio: 'pipe' });
    psql(`\\copy (SELECT * FROM ${table}) TO '${file}' WITH (FORMAT ${format})`);
    const rows = Number(
      execFileSync('psql', ['-X', '-At', url, '-c', `SELECT count(*) FROM ${table}`])
        .toString()
        .trim(),
    );
    psql(`TRUNCATE ${into}`);
    psql('CHECKPOINT');
    const t0 = performance.now();
    psql(`\\copy ${into} FROM '${file}' WITH (FORMAT ${format})`);
    return { ms: performance.now() - t0, rows, bytes: statSync(file).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A database's URL on the bench server. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Bytes of a table with its indexes and, when partitioned, all its partitions. */
export async function tableBytes(pool: pg.Pool, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT CASE WHEN relkind = 'p' THEN (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(oid))
                 ELSE pg_total_relation_size(oid) END::text AS n
       FROM pg_class WHERE oid = $1::regclass`,
    [table],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The machine's load average now (1, 5, 15 min), printed beside every table. */
export async function loadAverage(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
