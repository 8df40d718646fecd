/**
 * A small time-bounded cache for answers that depend only on the request and on data the batch
 * rewrites at most daily (the symbol dashboard). A batch's new rows show within `ttlMs`.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { expires: number; value: V }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1000,
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = await load();
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { expires: now + this.ttlMs, value });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
