import type { Account } from './users.ts';

/**
 * The signed-in user's row (token version, admin flag) kept for a short while in this process, so
 * that a burst of requests with one token does not read the same row from PostgreSQL each time.
 *
 * What it costs in freshness, and what it does not:
 * - a change made through this process (sign-out everywhere, a password change) calls `forget`, and
 *   the very next request reads the store again: revocation stays immediate here;
 * - a change made elsewhere (another `serve` process, `users create --replace`, SQL by hand) is seen
 *   once the row held here is older than `ttlMs`: at most that late;
 * - `ttlMs` 0 keeps nothing (the store on every request).
 * The caller also forgets the row when a token's version differs from the one held (a sign-in
 * after a revocation made elsewhere carries the newer version): the store then decides.
 * Concurrent misses for one user share one read (held from the moment it starts, so `forget` also
 * drops a read under way: the requests already waiting on it started before the change).
 */
export class AccountCache {
  private readonly held = new Map<number, { at: number; account: Promise<Account | undefined> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly load: (id: number) => Promise<Account | undefined>,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(id: number): Promise<Account | undefined> {
    if (this.ttlMs <= 0) return this.load(id);
    const t = this.now();
    const hit = this.held.get(id);
    if (hit && t - hit.at < this.ttlMs) return hit.account;
    if (hit) this.held.delete(id);
    const account = this.load(id);
    const entry = { at: t, account };
    this.held.set(id, entry);
    if (this.held.size > this.maxEntries) this.held.delete(this.held.keys().next().value!);
    const drop = () => {
      if (this.held.get(id) === entry) this.held.delete(id);
    };
    // an unknown user (or a failed read) is not remembered
    account.then((a) => a === undefined && drop(), drop);
    return account;
  }

  /** Drops the user's row now: the next request reads the store (call it after changing the row). */
  forget(id: number): void {
    this.held.delete(id);
  }
}
