import bcrypt from 'bcryptjs';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

const BCRYPT_ROUNDS = 10;

export const hashPassword = (password: string): Promise<string> => bcrypt.hash(password, BCRYPT_ROUNDS);
export const verifyPassword = (password: string, hash: string): Promise<boolean> =>
  bcrypt.compare(password, hash);

export interface NewUser {
  username: string;
  password: string;
  isAdmin?: boolean;
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
  };
  const q = db.insertInto('users').values(values);
  const row = await (
    replace
      ? q.onConflict((oc) =>
          oc
            .column('username')
            .doUpdateSet({ password_hash: values.password_hash, is_admin: values.is_admin }),
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
