/**
 * How many long-lived streams (server-sent events) one API key may hold open at once. A stream
 * costs the server a connection and a listener for as long as the client keeps it; the per-key
 * rate limits how often they are opened, this how many stay open. One table per server.
 *
 * @example
 *   const slots = new StreamSlots({ perKey: 8 });
 *   const release = slots.take(caller.keyId);   // throws RATE_LIMITED when the key holds 8
 *   stream.onAbort(release);
 */
import { AirlockError } from '../core/errors.ts';

export class StreamSlots {
  readonly #perKey: number;
  readonly #open = new Map<string, number>();

  constructor(options: { readonly perKey: number }) {
    this.#perKey = options.perKey;
  }

  /** Takes a slot for `key`; the returned function gives it back (once, however often it is called). */
  take(key: string): () => void {
    const open = this.#open.get(key) ?? 0;
    if (open >= this.#perKey) {
      throw new AirlockError('RATE_LIMITED', `this API key already holds ${open} open event streams, the server's most: close one (or reconnect with Last-Event-ID after it), or start the server with a larger --streams`);
    }
    this.#open.set(key, open + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }

  /** Open streams of `key` (for tests and the server's log). */
  held(key: string): number {
    return this.#open.get(key) ?? 0;
  }
}
