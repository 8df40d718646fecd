import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export { hashPassword, verifyPassword } from './passwords.ts';

export interface NewUser {
  username: string;
  password: string;
  isAdmin?: boolean;
  /** The demo loader's password (the public-bind guard refuses to serve while a user has it). */
  demoPassword?: boolean;
}

/** Creates a user, or with `replace` resets an existing user's password and role. Returns the id. */
export async function createUser(db: Kysely<Database>, user: NewUser, replace = false): Promise<number> {
  if (!/^[A-Za-z0-9._@-]{2,64}$/.test(user.username)) {
    throw new Error(`username "${user.username}": use 2 to 64 letters, digits or . _ @ -`);
  }
  if (user.password.length < 8) throw new Error('password: at least 8 characters');
  const values = {
    username: user.username,
    password_hash: await hashPassword(user.password),
    is_admin: user.isAdmin ?? false,
    has_demo_password: user.demoPassword ?? false,
  };
  const q = db.insertInto('users').values(values);
  const row = await (
    replace
      ? q.onConflict((oc) =>
          oc
            .column('username')
            // The tokens signed before a reset (or a demotion) stop working at once.
            .doUpdateSet((eb) => ({
              password_hash: values.password_hash,
              is_admin: values.is_admin,
              has_demo_password: values.has_demo_password,
              token_version: eb('users.token_version', '+', 1),
            })),
        )
      : q
  )
    .returning('id')
    .executeTakeFirstOrThrow()
    .catch((e: { code?: string }) => {
      if (e.code === '23505') throw new Error(`user "${user.username}" already exists`);
      throw e;
    });
  return row.id;
}

/** What a request's token is checked against, per request: the user as the store has it now. */
export interface Account {
  id: number;
  username: string;
  is_admin: boolean;
  token_version: number;
}

export const accountById = (db: Kysely<Database>, id: number): Promise<Account | undefined> =>
  db
    .selectFrom('users')
    .select(['id', 'username', 'is_admin', 'token_version'])
    .where('id', '=', id)
    .executeTakeFirst();

export const accountForLogin = (db: Kysely<Database>, username: string) =>
  db
    .selectFrom('users')
    .select(['id', 'username', 'password_hash', 'is_admin', 'token_version'])
    .where('username', '=', username)
    .executeTakeFirst();

/** Replaces a user's hash without touching the tokens (a bcrypt hash upgraded to scrypt at login). */
export async function replaceHash(db: Kysely<Database>, id: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

/**
 * Revokes every token of the user (sign-out everywhere), optionally setting a new password in the
 * same statement. Returns the new token version.
 */
export async function revokeTokens(db: Kysely<Database>, id: number, newPassword?: string): Promise<number> {
  if (newPassword !== undefined && newPassword.length < 8) throw new Error('password: at least 8 characters');
  const hash = newPassword === undefined ? undefined : await hashPassword(newPassword);
  const row = await db
    .updateTable('users')
    .set((eb) => ({
      token_version: eb('token_version', '+', 1),
      ...(hash !== undefined && { password_hash: hash, has_demo_password: false }),
    }))
    .where('id', '=', id)
    .returning('token_version')
    .executeTakeFirstOrThrow();
  return row.token_version;
}

/**
 * The users who still have a demo password (the demo must not survive on a public address): those
 * whose password the demo loader set and nobody changed since, and those whose password is one of
 * `passwords` (the configured and the default demo password, however the user got it).
 */
export async function usersWithDemoPassword(
  db: Kysely<Database>,
  passwords: readonly string[],
): Promise<string[]> {
  const users = await db
    .selectFrom('users')
    .select(['username', 'password_hash', 'has_demo_password'])
    .orderBy('id')
    .execute();
  const found: string[] = [];
  for (const u of users) {
    if (u.has_demo_password) found.push(u.username);
    else
      for (const p of new Set(passwords))
        if (await verifyPassword(p, u.password_hash)) {
          found.push(u.username);
          break;
        }
  }
  return found;
}

/** True when `username` exists and its password is `password` (what `start` may print). */
export async function hasPassword(
  db: Kysely<Database>,
  username: string,
  password: string,
): Promise<boolean> {
  const u = await accountForLogin(db, username);
  return u !== undefined && (await verifyPassword(password, u.password_hash));
}
