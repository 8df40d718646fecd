import { ProviderError, type FetchLike, type ProviderLimits } from './types.ts';

export interface HttpPolicy extends ProviderLimits {
  /** Timeout of one attempt (ms). */
  timeoutMs: number;
  /** Further attempts after a 429, a 5xx, a timeout or a network error. */
  retries: number;
  /** First backoff (ms); doubles each retry, with jitter, capped at `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** What an adapter is given: the timeouts and retries, and optional overrides of its own limits. */
export type AdapterPolicy = Omit<HttpPolicy, keyof ProviderLimits> & Partial<ProviderLimits>;

/** The adapter's default limits with the configured overrides laid over them. */
export function limitsFor(defaults: ProviderLimits, p: Partial<ProviderLimits>): ProviderLimits {
  return {
    requestsPerSecond: p.requestsPerSecond ?? defaults.requestsPerSecond,
    concurrency: p.concurrency ?? defaults.concurrency,
  };
}

export interface HttpOptions {
  /** Values to scrub from every message (API keys). */
  secrets?: readonly string[];
  /** Which URLs must answer JSON: an HTML page there is an error, not data. Default: all. */
  expectsJson?: (url: string) => boolean;
  /** Waits between retries (tests pass a recorder); rate spacing always uses the real clock. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Told of each retry, for the run's log (messages already scrubbed). */
  onRetry?: (message: string) => void;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Replaces each secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/** Where a request went, for messages: host and path, never the query (keys may ride there). */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return 'the provider';
  }
}

/**
 * The HTTP discipline every provider shares, wrapped around an injected `fetch`: requests spaced to
 * the provider's rate, at most `concurrency` in flight, a timeout per attempt, and retries with
 * exponential backoff and full jitter on 429 (honouring Retry-After), 5xx, timeouts and network
 * errors. Other answers are returned as they are for the adapter to read; a JSON endpoint that
 * answers an HTML page (an error or consent page) is turned into a clear `ProviderError`.
 *
 * Example: with retries 4 and base 500 ms the waits are drawn from [250, 500], [500, 1000],
 * [1000, 2000], [2000, 4000] ms.
 */
export class ProviderHttp {
  private nextSlot = 0;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly impl: FetchLike,
    private readonly policy: HttpPolicy,
    private readonly options: HttpOptions = {},
  ) {
    this.sleep = options.sleep ?? sleepMs;
    this.random = options.random ?? Math.random;
  }

  /** Scrubs the secrets this client knows from a message. */
  redact(text: string): string {
    return redact(text, this.options.secrets ?? []);
  }

  /** A `fetch` with the discipline above (bound, so it can be handed to a library). */
  readonly fetch: FetchLike = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const { retries, baseDelayMs = 500, maxDelayMs = 30_000 } = this.policy;
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      let failure: string;
      try {
        const response = await this.limited(() => this.once(url, input, init));
        if (response.status !== 429 && response.status < 500) return response;
        failure = `HTTP ${response.status} from ${where(url)}`;
        retryAfterMs = retryAfter(response.headers.get('retry-after'));
        await response.body?.cancel().catch(() => undefined);
        if (attempt >= retries)
          throw new ProviderError(`${failure} (after ${attempts(attempt + 1)})`, 'http', response.status);
      } catch (e) {
        if (e instanceof ProviderError) throw e;
        const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
        failure = timedOut
          ? `no answer from ${where(url)} within ${this.policy.timeoutMs} ms`
          : `network error reaching ${where(url)}: ${this.redact(e instanceof Error ? e.message : String(e))}`;
        if (attempt >= retries)
          throw new ProviderError(
            `${failure} (after ${attempts(attempt + 1)})`,
            timedOut ? 'timeout' : 'network',
          );
      }
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
      const delay = Math.max(retryAfterMs ?? 0, backoff / 2 + (this.random() * backoff) / 2);
      this.options.onRetry?.(`${failure}; retry ${attempt + 1} of ${retries} in ${Math.round(delay)} ms`);
      await this.sleep(delay);
    }
  };

  /**
   * One attempt, its body read within the timeout when it is data. The timer is our own (an
   * `AbortSignal.timeout` timer does not keep the process alive, so a silent peer could leave a
   * run pending forever) and is cleared as soon as the attempt is over.
   */
  private async once(
    url: string,
    input: string | URL | Request,
    init: RequestInit | undefined,
  ): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('the request timed out', 'TimeoutError')),
      this.policy.timeoutMs,
    );
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    try {
      const response = await this.impl(input, { ...init, signal });
      if (response.status === 429 || response.status >= 500) return response;
      return await this.checked(url, response);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for a rate slot and a concurrency lane, runs `work`, frees the lane. */
  private async limited<T>(work: () => Promise<T>): Promise<T> {
    while (this.active >= this.policy.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      const now = Date.now();
      const slot = Math.max(now, this.nextSlot);
      this.nextSlot = slot + 1000 / this.policy.requestsPerSecond;
      if (slot > now) await sleepMs(slot - now);
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async checked(url: string, response: Response): Promise<Response> {
    if (!(this.options.expectsJson ?? (() => true))(url)) return response;
    const type = response.headers.get('content-type') ?? '';
    const text = await response.text();
    if (/text\/html/i.test(type) || /^\s*</.test(text)) {
      const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
      throw new ProviderError(
        `${where(url)} answered an HTML page instead of data (HTTP ${response.status}${title ? `, "${this.redact(title.slice(0, 80))}"` : ''})`,
        'bad_answer',
        response.status,
      );
    }
    return new Response(text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
}

const attempts = (n: number) => (n === 1 ? '1 attempt' : `${n} attempts`);

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.min(60_000, Math.max(0, seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.min(60_000, Math.max(0, at - Date.now()));
}
