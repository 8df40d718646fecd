import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * Password hashes. New hashes are scrypt (node's `crypto.scrypt`, which runs on libuv's thread pool,
 * so a flood of logins does not stall the event loop); hashes written by earlier versions (bcrypt,
 * `$2a$`/`$2b$`) still verify, and `needsRehash` tells the caller to replace them.
 *
 * Format: `scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<key, base64url>`, e.g.
 * `scrypt$15$8$1$q3…$Zk…` for N = 32768.
 */
const LOG2_N = 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
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
