/**
 * Per-key request rate: a token bucket per API key (a minute's worth may come at once, then it
 * refills evenly). Keys are counted only after they are verified, so the table holds at most one
 * entry per real key; it belongs to one server and goes with it.
 *
 * @example
 *   const rate = new RateLimiter({ perMinute: 600 });
 *   const wait = rate.take(caller.keyId); // 0: go on; otherwise seconds until a request is allowed
 */
export interface RateOptions {
  /** Requests per minute per key. */
  readonly perMinute: number;
  /** The clock, in ms (tests pass their own). */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateOptions) {
    this.#capacity = options.perMinute;
    this.#perMs = options.perMinute / 60_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes one request from `key`'s bucket: 0 when allowed, else the whole seconds to wait. */
  take(key: string): number {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#capacity, at: now };
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000));
  }
}
