import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.ts';
import { PipelineEngine } from '../../src/pipeline/engine.ts';
import { runPipeline } from '../../src/pipeline/submit.ts';
import { loadConfig } from '../../src/config.ts';
import { loadDemoMarket } from '../../src/demo/load.ts';
import { loadModel } from '../../src/factors/model.ts';
import { tradingDays } from '../../src/market/closes.ts';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { scratchDir } from '../../test/helpers/files.ts';

export const SECRET = 'web-test-secret-of-enough-length-0123456789';

/**
 * The real server (API and the built web app, one port) on a database of this file's own, with a
 * small demo market and the daily batch run over its last `days` trading days.
 */
export async function startAppServer(
  options: { stocks?: number; days?: number; engine?: boolean } = {},
): Promise<{
  base: string;
  app: FastifyInstance;
  t: TestDb;
  dates: string[];
  /** with `engine: true`: a real job engine that enqueues POST /batch/runs; it works only once told to */
  engine: PipelineEngine | null;
  close: () => Promise<void>;
}> {
  const t = await createTestDb();
  await loadDemoMarket(t.db, t.pool, scratchDir(), 'demo-password', { stocks: options.stocks ?? 40 });
  // The demo user is no admin; here it is one, so that one signed-in session covers every page
  // (the batch page is for admins).
  await t.pool.query("UPDATE users SET is_admin = true WHERE username = 'demo'");
  const config = { ...loadConfig({}), dualWrite: false };
  const { calendarSymbol } = (await loadModel(t.db)).settings;
  const dates = (await tradingDays(t.pool, calendarSymbol, '0001-01-01', '9999-12-31')).slice(
    -(options.days ?? 4),
  );
  await runPipeline(t, config, { from: dates[0]!, to: dates.at(-1)!, kind: 'backfill' });
  const engine = options.engine
    ? await PipelineEngine.open(t, config, { log: () => undefined, schedule: false })
    : null;
  const app = await buildServer({
    db: t.db,
    pool: t.pool,
    config,
    secret: SECRET,
    ...(engine && { engine }),
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    base,
    app,
    t,
    dates,
    engine,
    close: async () => {
      await app.close();
      await engine?.stop(2000);
      await t.close();
    },
  };
}
