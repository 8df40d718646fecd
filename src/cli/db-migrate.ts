import { migrateToLatest } from '../db/migrate.ts';
import type { CommandModule } from './options.ts';

export const dbMigrate: CommandModule = {
  run: async ({ db }) => {
    const d = await db();
    const applied = await migrateToLatest(d.db);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is up to date.');
    return 0;
  },
};
