/**
 * Per-tenant quotas: live sandboxes, total memory of live sandboxes (their policies' memoryMiB),
 * and runs per minute (a token bucket: a full minute's worth may come at once, then it refills
 * evenly). Counted per AIRLOCK_HOME — one deployment, one audit log — across every host process
 * that uses it, because the counts live in the machine's registry and each check runs inside the
 * registry's write transaction: two hosts racing for a tenant's last slot can't both get it.
 *
 * This file holds the numbers and the decisions; src/runtime/registry.ts holds the atomicity.
 */
import { AirlockError } from '../core/errors.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { decide } from '../policy/decide.ts';
import { TENANT_ID } from '../policy/request.ts';
import type { Bucket, TenantUsage } from './registry.ts';

export interface TenantQuota {
  /** Sandboxes alive at once (isolate and container; a one-shot run() holds one while it runs). */
  readonly sandboxes: number;
  /** Runs started per minute (isolate runs and container execs). */
  readonly runsPerMinute: number;
  /** Sum of limits.memoryMiB over the tenant's live sandboxes. */
  readonly memoryMiB: number;
}

/** Quotas a host sets: one default for every tenant, and overrides by tenant id. */
export interface QuotaOptions {
  readonly default?: Partial<TenantQuota>;
  readonly tenants?: Readonly<Record<string, Partial<TenantQuota>>>;
}

/** Generous enough for a busy host (the bench runs ~1,000 isolate runs a second), never unlimited. */
export const QUOTA_DEFAULTS: TenantQuota = { sandboxes: 64, runsPerMinute: 60_000, memoryMiB: 16_384 };

const QUOTA_CEILINGS: TenantQuota = { sandboxes: 100_000, runsPerMinute: 100_000_000, memoryMiB: 16 * 1024 * 1024 };

function checked(where: string, given: Partial<TenantQuota> | undefined, base: TenantQuota): TenantQuota {
  if (given === undefined) return base;
  if (typeof given !== 'object') throw new AirlockError('INVALID_REQUEST', `${where} must be an object of { sandboxes, runsPerMinute, memoryMiB }`);
  const out: Record<string, number> = { ...base };
  for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
    if (!Object.hasOwn(QUOTA_DEFAULTS, key)) throw new AirlockError('INVALID_REQUEST', `${where}.${key} is not a quota: use sandboxes, runsPerMinute or memoryMiB`);
    const max = QUOTA_CEILINGS[key as keyof TenantQuota];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new AirlockError('INVALID_REQUEST', `${where}.${key} must be an integer from 1 to ${max}, not ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return out as unknown as TenantQuota;
}

/**
 * @example
 *   const quotas = new Quotas({ default: { sandboxes: 4 }, tenants: { acme: { runsPerMinute: 600 } } });
 *   registry.admitSandbox(row, (usage) => quotas.admit('acme', usage, policy));
 */
export class Quotas {
  readonly #default: TenantQuota;
  readonly #tenants: ReadonlyMap<string, TenantQuota>;

  /** Checks every number now, so a bad option fails createAirlock, not the first run. */
  constructor(options: QuotaOptions = {}) {
    this.#default = checked('quotas.default', options.default, QUOTA_DEFAULTS);
    const tenants = new Map<string, TenantQuota>();
    for (const [tenant, quota] of Object.entries(options.tenants ?? {})) {
      if (!TENANT_ID.test(tenant)) throw new AirlockError('INVALID_REQUEST', `quotas.tenants has ${JSON.stringify(tenant)}, which is not a tenant id: use 1–63 of a-z 0-9 _ -`);
      tenants.set(tenant, checked(`quotas.tenants.${tenant}`, quota, this.#default));
    }
    this.#tenants = tenants;
  }

  of(tenant: string): TenantQuota {
    return this.#tenants.get(tenant) ?? this.#default;
  }

  /** Throws QUOTA_SANDBOXES or QUOTA_MEMORY (decide()'s quota door) when one more sandbox under `policy` would not fit. */
  admit(tenant: string, usage: TenantUsage, policy: CompiledPolicy): void {
    const q = this.of(tenant);
    const asks = [
      { budget: 'sandboxes', used: usage.sandboxes, asking: 1, max: q.sandboxes },
      { budget: 'memoryMiB', used: usage.memoryMiB, asking: policy.limits.memoryMiB, max: q.memoryMiB },
    ] as const;
    for (const ask of asks) {
      const decision = decide(policy, { door: 'quota', tenant, ...ask });
      if (!decision.allow) throw new AirlockError(decision.code, decision.message);
    }
  }

  /**
   * Spends one run from the tenant's bucket, or throws QUOTA_RUNS saying when the next is allowed.
   * A clock that steps back refills nothing and never lets the same time be counted twice.
   */
  take(tenant: string, bucket: Bucket | null, nowMs: number, policy: CompiledPolicy): Bucket {
    const perMinute = this.of(tenant).runsPerMinute;
    const atMs = Math.max(bucket?.atMs ?? nowMs, nowMs);
    const elapsed = bucket === null ? 0 : Math.max(0, nowMs - bucket.atMs);
    const tokens = bucket === null ? perMinute : Math.min(perMinute, bucket.tokens + (elapsed * perMinute) / 60_000);
    // The bucket holds `tokens` of `perMinute`: the rest are in use this minute.
    const decision = decide(policy, { door: 'quota', budget: 'runsPerMinute', tenant, used: perMinute - tokens, asking: 1, max: perMinute });
    if (!decision.allow) {
      const waitMs = Math.ceil(((1 - tokens) * 60_000) / perMinute);
      throw new AirlockError(decision.code, `${decision.message} (retry in ${waitMs} ms)`, { retryAfterMs: waitMs });
    }
    return { tokens: tokens - 1, atMs };
  }
}
