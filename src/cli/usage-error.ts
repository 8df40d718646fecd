/** A command line the command cannot run: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
