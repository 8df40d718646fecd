import { sql } from 'kysely';

/**
 * A portfolio's inception as SQL: the earliest entry date of its positions, or null when one has no
 * entry date (held since before any date) or there is none.
 */
export const inceptionSql = (portfolioId: string) =>
  sql<string | null>`(SELECT CASE WHEN bool_or(x.entry_date IS NULL) THEN NULL ELSE min(x.entry_date) END
     FROM positions x WHERE x.portfolio_id = ${sql.ref(portfolioId)})`;
