import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { availableParallelism } from 'node:os';
import bcrypt from 'bcryptjs';

/**
 * Password hashes. New hashes are scrypt (node's `crypto.scrypt`, which runs on libuv's thread pool,
 * so a flood of logins does not stall the event loop); hashes written by earlier versions (bcrypt,
 * `$2a$`/`$2b$`) still verify, and `needsRehash` tells the caller to replace them.
 *
 * Format: `scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<key, base64url>`, e.g.
 * `scrypt$14$8$1$q3…$Zk…` for N = 16384.
 */
// N = 2^14, r = 8, p = 1: the interactive-login setting of the scrypt paper (16 MiB, ~100 ms here).
const LOG2_N = 14;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/**
 * Hashes at once: half the cores. libuv's thread pool (4 threads) also serves the database driver's
 * SCRAM handshake and file reads; a flood of logins must leave it room, or new database connections
 * wait behind the hashes and time out.
 */
const MAX_CONCURRENT = Math.max(1, Math.floor(availableParallelism() / 2));
/** Hashes waiting beyond this many are refused at once (`HashQueueFullError`): a flood gets a 503. */
const MAX_WAITING = 256;
let running = 0;
const waiting: (() => void)[] = [];

export class HashQueueFullError extends Error {
  constructor() {
    super('too many password checks waiting');
  }
}

async function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  if (running >= MAX_CONCURRENT) {
    if (waiting.length >= MAX_WAITING) throw new HashQueueFullError();
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await new Promise<Buffer>((resolve, reject) =>
      scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
    );
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const optionsFor = (log2N: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** log2N,
  r,
  p,
  maxmem: 256 * r * 2 ** log2N, // 128·N·r bytes is what scrypt needs; twice that leaves room
});

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LENGTH, optionsFor(LOG2_N, R, P));
  return `scrypt$${LOG2_N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash of no password, compared against when the user does not exist (so both take as long). */
export const DUMMY_HASH = `scrypt$${LOG2_N}$${R}$${P}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEY_LENGTH).toString('base64url')}`;

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (hash.startsWith('$2')) return bcrypt.compare(password, hash);
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((x) => Number.isInteger(x) && x > 0) || log2N > 20 || r > 32 || p > 16)
    return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await scryptAsync(password, salt, expected.length, optionsFor(log2N, r, p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** True for a hash of an older scheme or weaker settings, to be replaced after a successful login. */
export const needsRehash = (hash: string): boolean => !hash.startsWith(`scrypt$${LOG2_N}$${R}$${P}$`);
