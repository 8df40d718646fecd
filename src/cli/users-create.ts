import { createUser } from '../users/users.ts';
import { str, UsageError, type CommandModule } from './options.ts';

export const usersCreate: CommandModule = {
  options: { password: { type: 'string' }, admin: { type: 'boolean' }, replace: { type: 'boolean' } },
  run: async ({ values, positionals, db }) => {
    if (positionals.length !== 1) throw new UsageError('expected one USERNAME');
    const password = str(values, 'password') ?? process.env.FU_NEW_PASSWORD;
    if (!password) throw new UsageError('give the password in FU_NEW_PASSWORD (or --password)');
    const d = await db();
    const id = await createUser(
      d.db,
      { username: positionals[0]!, password, isAdmin: values.admin === true },
      values.replace === true,
    );
    const role = values.admin === true ? 'an administrator' : 'not an administrator (--admin makes one)';
    console.log(`User ${positionals[0]} (id ${id}) saved: ${role}.`);
    return 0;
  },
};
