/**
 * Attempts per key in a fixed window (login attempts per username and per client address). Memory is
 * bounded: windows that ended are dropped as they are met, and when `maxKeys` keys are tracked the
 * oldest window goes first.
 *
 * Example: limit 3 per 60 s; attempts at t = 0, 1, 2 s pass, the one at 3 s is refused with
 * `retryAfterSeconds` 57; at t = 60 s a new window starts.
 */
export class WindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts an attempt for `key`; returns 0 when allowed, else the seconds until the window ends. */
  hit(key: string): number {
    const now = this.now();
    let w = this.windows.get(key);
    if (w && now - w.start >= this.windowMs) {
      this.windows.delete(key);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= this.maxKeys) this.evict(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > this.limit ? Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) : 0;
  }

  private evict(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
    // Still full: the map keeps insertion order, so the first key is the oldest window.
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
  }
}

/**
 * The limits on password checks, shared by every route that checks one (sign-in by token or cookie,
 * password change): attempts per username and per client address in a fixed window. Usernames are
 * case-sensitive, so their keys are too: failures on `ALICE` do not lock `alice` out.
 */
export class CredentialLimits {
  private readonly perUser: WindowLimiter;
  private readonly perAddress: WindowLimiter;

  constructor(o: { perUser: number; perAddress: number; windowSeconds: number }) {
    this.perUser = new WindowLimiter(o.perUser, o.windowSeconds * 1000);
    this.perAddress = new WindowLimiter(o.perAddress, o.windowSeconds * 1000);
  }

  /** Counts one password check; returns 0 when allowed, else the seconds to wait (answer 429). */
  hit(address: string, username: string): number {
    return Math.max(this.perAddress.hit(address), this.perUser.hit(username));
  }
}
