/**
 * A small time-bounded cache for answers that depend only on the request and on data the batch
 * rewrites at most daily (the symbol dashboard). A batch's new rows show within `ttlMs`.
 *
 * It keeps the pending promise, not the value, so that when an entry expires under load the many
 * requests asking for it at that moment share one database query instead of each sending their own;
 * a load that fails is forgotten at once, so the next request tries again.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { expires: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1000,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = load();
    if (this.ttlMs <= 0) return value;
    if (!hit && this.entries.size >= this.maxEntries)
      this.entries.delete(this.entries.keys().next().value as string);
    const entry = { expires: now + this.ttlMs, value };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
