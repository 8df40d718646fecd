import type pg from 'pg';

/** One of `count` partitions of a stage's block (index 0-based). */
export interface Partition {
  index: number;
  count: number;
}

/**
 * How a block's work splits: contiguous, balanced shards of the symbols (or portfolios) in key order,
 * `ntile(count)` groups, so every key falls in exactly one partition whatever the count.
 * Example: 10,000 symbols with a shard size of 1,000 → 10 partitions of 1,000 symbols.
 */
export async function shardCount(
  client: pg.ClientBase,
  table: 'symbol_universe' | 'portfolios',
  shardSize: number,
): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return Math.max(1, Math.ceil((rows[0]?.n ?? 0) / shardSize));
}

export async function symbolShard(pool: pg.Pool, p: Partition): Promise<string[]> {
  const { rows } = await pool.query<{ symbol: string }>(
    `SELECT symbol FROM (SELECT symbol, ntile($1) OVER (ORDER BY symbol) AS t FROM symbol_universe) x
      WHERE t = $2 ORDER BY symbol`,
    [p.count, p.index + 1],
  );
  return rows.map((r) => r.symbol);
}

export async function portfolioShard(pool: pg.Pool, p: Partition): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `SELECT id FROM (SELECT id, ntile($1) OVER (ORDER BY id) AS t FROM portfolios) x WHERE t = $2 ORDER BY id`,
    [p.count, p.index + 1],
  );
  return rows.map((r) => r.id);
}
