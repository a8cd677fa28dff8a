/**
 * Trust cordons: the host's assignment of tenants to named groups whose isolate runs may share
 * worker processes (as Cloudflare runs its Workers). Each run still gets a fresh isolate; what
 * the tenants of one cordon share is the worker process, so a V8 escape in one reaches the
 * in-flight runs of its cordon-mates in that process (README, "Tenants on one host"). Tenants of
 * different cordons, and tenants in no cordon, never share a process.
 *
 * Only the host sets this (createAirlock's `isolate.cordons`, serve's config): nothing a run, its
 * policy or its request carries can name or change a tenant's cordon.
 *
 * @example
 *   const cordons = new Cordons({ free: ['t1', 't2'] });
 *   cordons.ownerOf('t1') // { kind: 'cordon', cordon: 'free' }
 *   cordons.ownerOf('t9') // { kind: 'tenant', tenant: 't9' }
 */
import { AirlockError } from '../core/errors.ts';
import { TENANT_ID } from '../core/tenant.ts';
import type { WorkerOwner } from './pool.ts';

/** Cordon name → the tenant ids the host puts in it. */
export type CordonMap = Readonly<Record<string, readonly string[]>>;

/**
 * A cordon's workers are labelled `cordon-<name>` where a tenant's carry its id (cgroup names the
 * reaper parses as a tenant id: 63 characters at most), so a name is 56 at most.
 */
const CORDON_NAME = /^[a-z0-9][a-z0-9_-]{0,55}$/;

export class Cordons {
  readonly #of = new Map<string, string>();
  readonly #members = new Map<string, readonly string[]>();

  constructor(map: CordonMap = {}) {
    const problems: string[] = [];
    for (const [cordon, tenants] of Object.entries(map)) {
      if (!CORDON_NAME.test(cordon)) problems.push(`cordon ${JSON.stringify(cordon)} is not a name: use 1–56 of a-z 0-9 _ -`);
      for (const tenant of tenants) {
        if (!TENANT_ID.test(tenant)) problems.push(`cordons.${cordon} has ${JSON.stringify(tenant)}, which is not a tenant id: use 1–63 of a-z 0-9 _ -`);
        const already = this.#of.get(tenant);
        if (already !== undefined && already !== cordon) problems.push(`tenant ${tenant} is in cordons ${already} and ${cordon}: a tenant is in one cordon at most`);
        this.#of.set(tenant, cordon);
      }
      this.#members.set(cordon, [...new Set(tenants)]);
    }
    // Fail closed: a half-understood assignment could put a tenant beside tenants it was not meant to meet.
    if (problems.length > 0) throw new AirlockError('INVALID_REQUEST', `isolate.cordons is invalid: ${problems.join('; ')}`);
  }

  /** The cordon the host put this tenant in, or null (it gets worker processes of its own). */
  cordonOf(tenant: string): string | null {
    return this.#of.get(tenant) ?? null;
  }

  /** Whose workers run this tenant's runs. */
  ownerOf(tenant: string): WorkerOwner {
    const cordon = this.#of.get(tenant);
    return cordon === undefined ? { kind: 'tenant', tenant } : { kind: 'cordon', cordon };
  }

  /** The other tenants whose runs may share a worker process with this tenant's. */
  matesOf(tenant: string): readonly string[] {
    const cordon = this.#of.get(tenant);
    return cordon === undefined ? [] : (this.#members.get(cordon) ?? []).filter((t) => t !== tenant);
  }
}
