/**
 * Runs `work` over `items` with at most `limit` calls in flight, in order of the items; used to write
 * batches concurrently, each on its own pooled connection. Rejects with the first error `work` throws
 * (callers catch per item when one failure must not stop the rest).
 */
export async function runLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
