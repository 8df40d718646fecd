/**
 * Test runner: starts one embedded PostgreSQL server for the whole run, migrates a template
 * database once, then runs every `*.test.ts` under the given folder with node's test runner.
 * Each test file clones the template into a database of its own (test/helpers/db.ts), so files
 * run in parallel without seeing each other's rows.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, ensureDatabase } from '../src/db/connection.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startThrowawayServer } from '../src/db/throwaway.ts';

const TEMPLATE = 'fu_template';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f))
    .sort();
}

const [dir = 'test', ...extra] = process.argv.slice(2);
const files = dir.endsWith('.ts') ? [dir] : testFiles(dir); // a folder, or one test file
if (files.length === 0) {
  console.error(`No *.test.ts files under ${dir}`);
  process.exit(1);
}

// Tests run bin/factor-universe.js, which runs dist/: compile the sources as they are now.
execFileSync(process.execPath, [fileURLToPath(new URL('./build.js', import.meta.url)), '--quiet'], {
  stdio: 'inherit',
});

const { server, done } = await startThrowawayServer('fu-test-');
let code = 1;
try {
  const templateUrl = await ensureDatabase(server.adminUrl, TEMPLATE);
  const template = connect(templateUrl, 1);
  await migrateToLatest(template.db);
  await template.db.destroy();

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...extra, ...files],
    {
      stdio: 'inherit',
      env: { ...process.env, FU_TEST_ADMIN_URL: server.adminUrl, FU_TEST_TEMPLATE: TEMPLATE },
    },
  );
  code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
} finally {
  await done();
}
process.exit(code);
