/**
 * What each sandbox has used of each route: requests admitted and body bytes both ways. Counted
 * per tenant + sandbox (+ run, when the context names one), so quotas never mix tenants.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { AirlockError } from '../core/errors.ts';
import { spendDenial, type DenialVerdict } from '../policy/denials.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { CompiledRoute } from '../policy/network.ts';

export interface UsageKey {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run?: string | undefined;
}

interface Used {
  requests: number;
  bytes: number;
}

function keyOf(key: UsageKey): string {
  return `${key.tenant}\0${key.sandbox}\0${key.run ?? ''}`;
}

export class UsageLedger {
  readonly #byKey = new Map<string, Map<string, Used>>();
  /** Denials spent per key (limits.denials). */
  readonly #denials = new Map<string, number>();

  #of(key: UsageKey): Map<string, Used> {
    const k = keyOf(key);
    let m = this.#byKey.get(k);
    if (m === undefined) {
      m = new Map();
      this.#byKey.set(k, m);
    }
    return m;
  }

  #used(key: UsageKey, route: string): Used {
    const m = this.#of(key);
    let u = m.get(route);
    if (u === undefined) {
      u = { requests: 0, bytes: 0 };
      m.set(route, u);
    }
    return u;
  }

  /** A read-only view for decideEgress. */
  view(key: UsageKey): ReadonlyMap<string, { readonly requests: number; readonly bytes: number }> {
    return this.#of(key);
  }

  countRequest(key: UsageKey, route: string): void {
    this.#used(key, route).requests += 1;
  }

  /** Gives back what admission reserved for a request that was then refused before it was sent. */
  refund(key: UsageKey, route: string, bytes: number): void {
    // Counters already released (the run ended meanwhile) stay released.
    const u = this.#byKey.get(keyOf(key))?.get(route);
    if (u === undefined) return;
    u.requests -= 1;
    u.bytes -= bytes;
  }

  /** Adds bytes; returns how many the route's quota has left (Infinity when it sets none). */
  addBytes(key: UsageKey, route: CompiledRoute, n: number): number {
    const u = this.#used(key, route.name);
    u.bytes += n;
    return route.quota.bytes === null ? Infinity : route.quota.bytes - u.bytes;
  }

  /** Spends one of the key's denials under `policy`'s limits.denials (src/policy/denials.ts). */
  spendDenial(key: UsageKey, policy: CompiledPolicy): { readonly verdict: DenialVerdict; readonly message: string | null } {
    const k = keyOf(key);
    const { spent, verdict, message } = spendDenial(policy, this.#denials.get(k) ?? 0);
    this.#denials.set(k, spent);
    return { verdict, message };
  }

  /** Whether the key has spent its denial budget: its requests are then refused at once. */
  denialsSpent(key: UsageKey, limit: number): boolean {
    return (this.#denials.get(keyOf(key)) ?? 0) > limit;
  }

  /** Forgets a sandbox's (or run's) counters once it is gone. */
  release(key: UsageKey): void {
    this.#byKey.delete(keyOf(key));
    this.#denials.delete(keyOf(key));
  }
}

/**
 * A pass-through stream that counts bytes and fails with a coded error once a bound is crossed:
 * `tooLarge` for the gateway's size limit, the route's byte quota through `charge`.
 */
export function meter(options: {
  readonly max: number;
  readonly what: string;
  readonly charge: (n: number) => number;
  readonly onBytes: (n: number) => void;
}): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      total += chunk.byteLength;
      options.onBytes(chunk.byteLength);
      if (total > options.max) {
        done(new AirlockError('EGRESS_TOO_LARGE', `the ${options.what} is over ${options.max} bytes: send less`));
        return;
      }
      if (options.charge(chunk.byteLength) < 0) {
        done(new AirlockError('EGRESS_QUOTA', `the route's byte quota ran out during the ${options.what}: raise its quota.bytes`));
        return;
      }
      done(null, chunk);
    },
  });
}
