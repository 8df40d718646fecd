import { createUser } from '../users/users.ts';
import { UsageError, type CommandModule } from './options.ts';

/**
 * Reads a password from the terminal without echoing it, twice (typed the same both times). Not a
 * terminal (a pipe, a service): a usage error, since the password then belongs in FU_NEW_PASSWORD.
 */
async function promptPassword(): Promise<string> {
  const { stdin, stderr } = process;
  if (!stdin.isTTY)
    throw new UsageError('give the password in FU_NEW_PASSWORD (stdin is not a terminal to prompt on)');
  const ask = (question: string) =>
    new Promise<string>((resolve, reject) => {
      stderr.write(question);
      stdin.setRawMode(true);
      stdin.resume();
      let typed = '';
      const onData = (b: Buffer) => {
        for (const c of b.toString('utf8')) {
          if (c === '\r' || c === '\n') return done(typed);
          if (c === '\u0003') return done(undefined); // Ctrl-C
          if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
          else typed += c;
        }
      };
      const done = (value: string | undefined) => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
        stderr.write('\n');
        if (value === undefined) reject(new UsageError('cancelled'));
        else resolve(value);
      };
      stdin.on('data', onData);
    });
  const first = await ask('New password: ');
  if ((await ask('Again: ')) !== first) throw new UsageError('the two passwords differ');
  return first;
}

export const usersCreate: CommandModule = {
  // --password is known only to refuse it with its reason (not as an unknown option).
  options: { password: { type: 'string' }, admin: { type: 'boolean' }, replace: { type: 'boolean' } },
  run: async ({ values, positionals, db }) => {
    if (positionals.length !== 1) throw new UsageError('expected one USERNAME');
    if (values.password !== undefined)
      throw new UsageError(
        '--password is not accepted: a password on the command line is visible to every user of the machine ' +
          '(process list) and stays in the shell history; give it in FU_NEW_PASSWORD or type it at the prompt',
      );
    const password = process.env.FU_NEW_PASSWORD || (await promptPassword());
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
