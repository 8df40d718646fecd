import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../../db/schema.ts';
import { inceptionSql } from '../../portfolios/inception.ts';
import { POSITION_VALUE_NUMBERS, type PositionValueRow } from '../../portfolios/position-values.ts';

/**
 * Paged reads of a portfolio's lists (positions, their values on a date, snapshots): each page one
 * query, with the list's total beside it. A page is bounded by the route's maximum, so no answer
 * grows with the portfolio; the whole list goes out as a stream (`positionValueChunks`).
 */
export interface Page {
  limit: number;
  offset: number;
}

/** The total of a page read with `count(*) OVER ()`; an empty page past the end counts apart. */
async function totalOf(rows: readonly { total?: unknown }[], page: Page, count: () => Promise<number>) {
  if (rows.length > 0) return Number(rows[0]!.total);
  return page.offset === 0 ? 0 : count();
}

const POSITION_COLUMNS = [
  'id',
  'symbol',
  'position_type',
  'quantity',
  'entry_price',
  'entry_date',
  'exit_date',
  'underlying_symbol',
  'strike_price',
  'expiration_date',
  'multiplier',
  'implied_volatility',
] as const;

const countPositions = async (db: Kysely<Database>, portfolioId: number) =>
  Number(
    (
      await db
        .selectFrom('positions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('portfolio_id', '=', portfolioId)
        .executeTakeFirstOrThrow()
    ).n,
  );

/** One page of a portfolio's positions, by id. */
export async function readPositionsPage(db: Kysely<Database>, portfolioId: number, page: Page) {
  const rows = await db
    .selectFrom('positions')
    .select([...POSITION_COLUMNS, (eb) => eb.fn.countAll<number>().over().as('total')])
    .where('portfolio_id', '=', portfolioId)
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const total = await totalOf(rows, page, () => countPositions(db, portfolioId));
  return { positions: rows.map(({ total: _t, ...r }) => r), total };
}

const valuesSql = (order: string, where = '') => `
  WITH d AS (
    SELECT coalesce($2::date, (SELECT max(value_date) FROM position_daily_values WHERE portfolio_id = $1)) AS date)
  SELECT p.id AS position_id, p.symbol, p.position_type, p.quantity,
         CASE WHEN p.position_type IN ('LC', 'LP', 'SC', 'SP') THEN coalesce(p.underlying_symbol, p.symbol) ELSE p.symbol END AS beta_symbol,
         p.underlying_symbol, p.strike_price, p.expiration_date::text AS expiration_date,
         p.entry_date::text AS entry_date, p.exit_date::text AS exit_date, p.multiplier,
         CASE WHEN d.date IS NULL THEN 'held'
              WHEN p.entry_date > d.date THEN 'not_entered'
              WHEN p.position_type IN ('LC', 'LP', 'SC', 'SP') AND p.expiration_date <= d.date THEN 'expired'
              WHEN p.exit_date <= d.date THEN 'exited'
              ELSE 'held' END AS status,
         ${POSITION_VALUE_NUMBERS.map((c) => `v.${c}`).join(', ')},
         d.date::text AS value_date, count(*) OVER () AS total
    FROM positions p CROSS JOIN d
    LEFT JOIN position_daily_values v ON v.position_id = p.id AND v.value_date = d.date
   WHERE p.portfolio_id = $1 ${where}
   ORDER BY ${order}
   LIMIT $3 OFFSET $4`;

type ValueRow = PositionValueRow & { value_date: string | null; total: string };

/** The valued date: the one asked for, or the newest the batch valued (null when none). */
async function valueDate(pool: pg.Pool, portfolioId: number, date: string | undefined) {
  if (date) return date;
  const { rows } = await pool.query<{ d: string | null }>(
    'SELECT max(value_date)::text AS d FROM position_daily_values WHERE portfolio_id = $1',
    [portfolioId],
  );
  return rows[0]?.d ?? null;
}

/**
 * One page of a portfolio's positions valued on a date (default: the newest valued one), largest
 * exposure first, as the portfolio batch stored them; positions without a value that day have nulls.
 */
export async function readPositionValuesPage(
  pool: pg.Pool,
  portfolioId: number,
  date: string | undefined,
  page: Page,
): Promise<{ date: string | null; positions: PositionValueRow[]; total: number }> {
  const { rows } = await pool.query<ValueRow>(valuesSql('abs(coalesce(v.exposure, 0)) DESC, p.id'), [
    portfolioId,
    date ?? null,
    page.limit,
    page.offset,
  ]);
  const total = await totalOf(rows, page, async () => {
    const { rows: n } = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM positions WHERE portfolio_id = $1',
      [portfolioId],
    );
    return Number(n[0]!.n);
  });
  return {
    date: rows[0]?.value_date ?? (await valueDate(pool, portfolioId, date)),
    positions: rows.map(({ value_date: _d, total: _t, ...r }) => r),
    total,
  };
}

/**
 * Every position valued on a date, in chunks of `chunk` by position id (keyset: each chunk one short
 * query on a pooled connection given back at once, however slowly the client reads). For the CSV
 * export; the date is resolved once, first, so every chunk is of the same day.
 */
export async function* positionValueChunks(
  pool: pg.Pool,
  portfolioId: number,
  date: string | null,
  chunk = 5000,
): AsyncGenerator<PositionValueRow[]> {
  let after = 0;
  for (;;) {
    const { rows } = await pool.query<ValueRow>(valuesSql('p.id', 'AND p.id > $5'), [
      portfolioId,
      date,
      chunk,
      0,
      after,
    ]);
    if (rows.length === 0) return;
    yield rows.map(({ value_date: _d, total: _t, ...r }) => r);
    if (rows.length < chunk) return;
    after = rows.at(-1)!.position_id;
  }
}

export { valueDate as positionValueDate };

const SNAPSHOT_COLUMNS = [
  'snapshot_date as date',
  'equity',
  'total_value',
  'cash',
  'long_exposure',
  'short_exposure',
  'gross_exposure',
  'net_exposure',
  'daily_pnl',
  'daily_return',
  'cumulative_pnl',
  'portfolio_delta',
  'positions_count',
  'missing_prices',
] as const;

/** One page of a portfolio's daily snapshots in [from, to], oldest first. */
export async function readSnapshotsPage(
  db: Kysely<Database>,
  portfolioId: number,
  from: string,
  to: string,
  page: Page,
) {
  const base = db
    .selectFrom('portfolio_snapshots')
    .where('portfolio_id', '=', portfolioId)
    .where('snapshot_date', '>=', from)
    .where('snapshot_date', '<=', to)
    // snapshots an older run wrote before the portfolio existed are not its history
    .where(
      sql<boolean>`snapshot_date >= coalesce(${inceptionSql('portfolio_snapshots.portfolio_id')}, '-infinity'::date)`,
    );
  const rows = await base
    .select([...SNAPSHOT_COLUMNS, (eb) => eb.fn.countAll<number>().over().as('total')])
    .orderBy('snapshot_date')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const total = await totalOf(rows, page, async () =>
    Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
  );
  return { snapshots: rows.map(({ total: _t, ...r }) => r), total };
}

/** One page of the signed-in user's portfolios, by id. */
export async function readPortfoliosPage(db: Kysely<Database>, owner: number, page: Page) {
  const rows = await db
    .selectFrom('portfolios as p')
    // the newest snapshot's equity: the current one, not the starting balance
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('portfolio_snapshots as s')
          .select(['s.equity', sql<string>`s.snapshot_date::text`.as('snapshot_date')])
          .whereRef('s.portfolio_id', '=', 'p.id')
          .orderBy('s.snapshot_date', 'desc')
          .limit(1)
          .as('last'),
      (join) => join.onTrue(),
    )
    .select([
      'p.id',
      'p.name',
      'p.currency',
      'p.equity_balance',
      'last.equity as current_equity',
      'last.snapshot_date as current_date',
      (eb) => eb.fn.countAll<number>().over().as('total'),
    ])
    .where('p.owner_id', '=', owner)
    .orderBy('p.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const total = await totalOf(rows, page, async () =>
    Number(
      (
        await db
          .selectFrom('portfolios')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('owner_id', '=', owner)
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );
  return { portfolios: rows.map(({ total: _t, ...r }) => r), total };
}
