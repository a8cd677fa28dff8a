/**
 * Verified chains, cached per tenant and bounded, so a call costs only the match
 * (docs/warrant-format.md §9). The caller owns the cache (no module state). A hit still runs the
 * standing checks (trusted root key, tenant, expiry, revocation, proof), so a cache never outlives
 * a key rotation or a revocation. Keyed by SHA-256 of the token text: a token is verified once.
 */
import { createHash } from 'node:crypto';
import { checkStanding, verifyWarrant, type VerifiedWarrant, type VerifyOptions } from './verify.ts';

export interface WarrantCacheOptions {
  /** Chains kept per tenant (default 256). */
  readonly perTenant?: number;
  /** Tenants kept (default 1024); the least recently used tenant's chains go first. */
  readonly tenants?: number;
}

/**
 * @example
 *   const cache = new WarrantCache();
 *   const w = cache.verify(token, { trustedKeys, now: Date.now(), revoked, tenant: 'acme' });
 */
export class WarrantCache {
  readonly #perTenant: number;
  readonly #tenants: number;
  // Map order is recency order: a hit moves an entry to the end; eviction takes the first.
  readonly #byTenant = new Map<string, Map<string, VerifiedWarrant>>();

  constructor(options: WarrantCacheOptions = {}) {
    this.#perTenant = Math.max(1, options.perTenant ?? 256);
    this.#tenants = Math.max(1, options.tenants ?? 1024);
  }

  /** The verified chain of `token`, from the cache when it was verified before. */
  verify(token: string, options: VerifyOptions): VerifiedWarrant {
    const key = createHash('sha256').update(token).digest('base64url');
    const chains = this.#tenant(options.tenant);
    const hit = chains.get(key);
    if (hit !== undefined) {
      chains.delete(key);
      checkStanding(hit, options);
      chains.set(key, hit);
      return hit;
    }
    const verified = verifyWarrant(token, options);
    chains.set(key, verified);
    if (chains.size > this.#perTenant) {
      const oldest = chains.keys().next();
      if (oldest.done !== true) chains.delete(oldest.value);
    }
    return verified;
  }

  /** How many chains are cached for a tenant. */
  size(tenant: string): number {
    return this.#byTenant.get(tenant)?.size ?? 0;
  }

  #tenant(tenant: string): Map<string, VerifiedWarrant> {
    const found = this.#byTenant.get(tenant);
    if (found !== undefined) {
      this.#byTenant.delete(tenant);
      this.#byTenant.set(tenant, found);
      return found;
    }
    const fresh = new Map<string, VerifiedWarrant>();
    this.#byTenant.set(tenant, fresh);
    if (this.#byTenant.size > this.#tenants) {
      const oldest = this.#byTenant.keys().next();
      if (oldest.done !== true) this.#byTenant.delete(oldest.value);
    }
    return fresh;
  }
}
