import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { APP_ROLE } from './migrations/0008_least_privilege.ts';

/**
 * The embedded server's application login: migration 0008 creates the role `fu_app` (data in and
 * out, no DDL); here the owner gives it a password of its own, generated once and kept beside the
 * superuser's credentials (mode 600), and the application connects with it.
 *
 * Returns the URL of `databaseUrl`'s database for `fu_app`.
 */
export async function appRoleUrl(ownerUrl: string, dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'app-credentials.json');
  let password: string;
  if (existsSync(file)) {
    password = (JSON.parse(readFileSync(file, 'utf8')) as { password: string }).password;
  } else {
    password = randomBytes(18).toString('base64url');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ user: APP_ROLE, password }), { mode: 0o600 });
  }
  const owner = new pg.Client({ connectionString: ownerUrl, connectionTimeoutMillis: 10_000 });
  await owner.connect();
  try {
    await owner.query(
      `ALTER ROLE ${APP_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${owner.escapeLiteral(password)}`,
    );
  } finally {
    await owner.end();
  }
  const url = new URL(ownerUrl);
  url.username = APP_ROLE;
  url.password = password;
  return url.toString();
}
