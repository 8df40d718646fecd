/**
 * A small time-bounded cache for answers that depend only on the request and on data the batch
 * rewrites at most daily (the symbol dashboard). A batch's new rows show within `ttlMs`.
 *
 * It keeps the pending promise, not the value, so that when an entry expires under load the many
 * requests asking for it at that moment share one database query instead of each sending their own;
 * a load that fails is forgotten at once, so the next request tries again.
 *
 * It is bounded twice: at most `maxEntries` answers and `maxBytes` bytes of them (the size of a
 * string or buffer answer, counted once it is known). Expired answers are dropped first, then the
 * oldest; an answer larger than `maxBytes` on its own is served but not kept.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { expires: number; value: Promise<V>; bytes: number }>();
  private totalBytes = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 500,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (hit) this.remove(key);
    const value = load();
    if (this.ttlMs <= 0) return value;
    this.sweep(now);
    if (this.entries.size >= this.maxEntries) this.remove(this.entries.keys().next().value as string);
    const entry = { expires: now + this.ttlMs, value, bytes: 0 };
    this.entries.set(key, entry);
    value.then(
      (v) => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = sizeOf(v);
        this.totalBytes += entry.bytes;
        if (entry.bytes > this.maxBytes) this.remove(key);
        // Oldest first, until the answers fit.
        while (this.totalBytes > this.maxBytes && this.entries.size > 0)
          this.remove(this.entries.keys().next().value as string);
      },
      () => {
        if (this.entries.get(key) === entry) this.remove(key);
      },
    );
    return value;
  }

  /**
   * Drops every expired answer. Every entry lives `ttlMs` and is (re)inserted at the end of the map,
   * so the map is in order of expiry: the sweep stops at the first live one.
   */
  sweep(now = this.now()): void {
    for (const [key, e] of this.entries) {
      if (e.expires > now) break;
      this.remove(key);
    }
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.totalBytes -= e.bytes;
    this.entries.delete(key);
  }
}

/** Bytes of a text or binary answer; other values count as 0 (bounded by the entry count alone). */
function sizeOf(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return v.byteLength;
  return 0;
}
