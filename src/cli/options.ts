/**
 * What every command module shares: the command shape, the usage error, and the option readers
 * (each names the option and the value it got when it refuses one).
 */
import { constants, accessSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config.ts';
import { isIsoDate } from '../imports/fields.ts';
import type { Db } from '../db/connection.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandArgs {
  values: Values;
  positionals: string[];
  /** The configuration, loaded (and validated) once on first use. */
  config: () => Config;
  /** The database, opened (and migrated) once on first use; closed by the caller of `run`. */
  db: (options?: { api?: boolean }) => Promise<Db>;
  /**
   * Aborted on Ctrl-C / SIGTERM (with an `Interrupted`): a command that works in steps stops after
   * the current one by throwing `signal.reason`. Work still running after the grace period is
   * abandoned (its transaction rolls back).
   */
  signal: AbortSignal;
}

/** A command's implementation; its usage and summary live in the command table (main.ts). */
export interface CommandModule {
  options?: Options;
  /** Returns the exit code: 0 success, 1 something was rejected or failed (2, usage, is thrown). */
  run(args: CommandArgs): Promise<number>;
}

/** Bad arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const str = (v: Values, name: string): string | undefined =>
  typeof v[name] === 'string' ? v[name] : undefined;

export function positiveNumber(v: Values, name: string): number | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${s}"`);
  return n;
}

/** An optional date option; refuses anything but YYYY-MM-DD. */
export function optionalDate(v: Values, name: string): string | undefined {
  const s = str(v, name);
  if (s !== undefined && !isIsoDate(s))
    throw new UsageError(`--${name} must be a date YYYY-MM-DD, got "${s}"`);
  return s;
}

/** The required `--date`. */
export function dateOption(v: Values, name = 'date'): string {
  const date = optionalDate(v, name);
  if (date === undefined) throw new UsageError(`--${name} YYYY-MM-DD is required`);
  return date;
}

/**
 * The one positional path of a command, resolved, after checking it can be read: a missing or
 * unreadable path is named with what was expected there (not a bare ENOENT later on).
 */
export function onePath(
  positionals: string[],
  what: string,
  kind: 'file' | 'file or folder' = 'file',
): string {
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? `expected the path of ${what}`
        : `expected one path (${what}), got ${positionals.length}`,
    );
  return readablePath(positionals[0]!, what, kind);
}

/** Checks that `p` exists, is of the expected kind and can be read; the error names it. */
export function readablePath(p: string, what: string, kind: 'file' | 'file or folder' = 'file'): string {
  const full = path.resolve(p);
  let isDir: boolean;
  try {
    isDir = statSync(full).isDirectory();
  } catch {
    throw new Error(`${p}: no such file${kind === 'file' ? '' : ' or folder'} (expected ${what})`);
  }
  if (isDir && kind === 'file') throw new Error(`${p}: is a folder (expected ${what})`);
  try {
    accessSync(full, constants.R_OK);
  } catch {
    throw new Error(`${p}: cannot be read (permission denied; expected ${what})`);
  }
  return full;
}

export const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(2)}%`);
export const num = (x: number | null, digits = 2) =>
  x === null
    ? ''
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
