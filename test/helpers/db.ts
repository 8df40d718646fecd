import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connect, type Db } from '../../src/db/connection.ts';

export interface TestDb extends Db {
  url: string;
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with npm test (scripts/run-tests.ts)`);
  return v;
}

/** A fresh, migrated database of this test file's own, cloned from the runner's template. */
export async function createTestDb(): Promise<TestDb> {
  const adminUrl = env('FU_TEST_ADMIN_URL');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(
          `CREATE DATABASE ${name} TEMPLATE ${admin.escapeIdentifier(env('FU_TEST_TEMPLATE'))}`,
        );
        break;
      } catch (e) {
        // 55006: the template is briefly in use by a concurrent clone
        if ((e as { code?: string }).code !== '55006' || attempt > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const { db, pool } = connect(url.toString(), 10);
  return {
    db,
    pool,
    url: url.toString(),
    location: name,
    close: async () => {
      await db.destroy();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
