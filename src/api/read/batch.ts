import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** How many runs of the pipeline there are (the total beside a page of GET /batch/runs). */
export async function countRuns(db: Kysely<Database>): Promise<number> {
  const { n } = await db
    .selectFrom('batch_runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}
