import path from 'node:path';
import { sql } from 'kysely';
import type { Config } from './config.ts';
import { openDatabase } from './db/connection.ts';
import { DEMO_USER, loadDemoMarket } from './demo/load.ts';

/**
 * What `npm start` does: start (or attach to) the database, migrate, load the demo market into an
 * empty database, and report what is there.
 */
export async function runMainJob(config: Config): Promise<number> {
  const log = (line: string) => console.log(line);
  log('Factor Universe: starting');
  const d = await openDatabase(config, {
    log: (l) => (l.startsWith('Applied') || l.startsWith('Creating')) && log(l),
  });
  try {
    log(`Database: ${d.location}`);
    const { n } = await d.db
      .selectFrom('market_data_cache')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n) === 0) {
      log('The database is empty: generating and importing the demo market…');
      const started = performance.now();
      const r = await loadDemoMarket(d.db, d.pool, path.join(config.dataDir, 'demo'), config.demoPassword);
      log(
        `Demo market loaded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${r.symbols} symbols × ${r.dates} trading days ` +
          `(${r.priceRows} closes), ${r.portfolios} portfolios of user "${DEMO_USER}" (password: ${config.demoPassword}).`,
      );
      log(`Demo input files (and the planted betas): ${r.folder}`);
    }
    const {
      rows: [counts],
    } = await sql<{ symbols: number; last_date: string | null; portfolios: number }>`
      SELECT (SELECT count(*) FROM symbol_universe)::int AS symbols,
             (SELECT max(last_seen) FROM symbol_universe) AS last_date,
             (SELECT count(*) FROM portfolios)::int AS portfolios`.execute(d.db);
    if (!counts) return 1;
    log(
      `Store: ${counts.symbols} symbols, prices up to ${counts.last_date ?? '(none)'}, ${counts.portfolios} portfolios.`,
    );
    return 0;
  } finally {
    await d.close();
  }
}
