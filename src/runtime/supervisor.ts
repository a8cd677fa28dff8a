/**
 * What createAirlock holds for lifecycle and tenancy, in one place: the registry (opened, and the
 * reaper run, once, before this host makes its first sandbox), the tenant quotas, and one lease
 * per live sandbox that pairs its registry row with its idle and lifetime clocks.
 */
import { randomUUID } from 'node:crypto';
import type { AuditSink } from '../audit/event.ts';
import { AirlockError } from '../core/errors.ts';
import type { Tier } from '../core/result.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { decide } from '../policy/decide.ts';
import { LifeTimer, type Expiry } from './lifecycle.ts';
import { Quotas, type QuotaOptions } from './quotas.ts';
import { reap, type ReapReport } from './reaper.ts';
import { Registry } from './registry.ts';
import type { RunStarted } from './run-events.ts';

export interface SupervisorOptions {
  readonly home: string;
  readonly audit: AuditSink;
  readonly quotas?: QuotaOptions;
}

const LIMIT_OF: Record<string, string> = { QUOTA_SANDBOXES: 'quotas.sandboxes', QUOTA_MEMORY: 'quotas.memoryMiB', QUOTA_RUNS: 'quotas.runsPerMinute' };

/** One live sandbox's registry row and clocks. `end()` once it is gone. */
export class SandboxLease {
  readonly id: string;
  readonly tenant: string;
  readonly #s: Supervisor;
  readonly #policy: CompiledPolicy;
  /** Why the sandbox's clock ended it, once it has. */
  #expired: Expiry | null = null;
  #timer: LifeTimer | null = null;
  #destroy: (() => Promise<void>) | null = null;
  #ended = false;

  constructor(s: Supervisor, id: string, tenant: string, policy: CompiledPolicy) {
    this.#s = s;
    this.id = id;
    this.tenant = tenant;
    this.#policy = policy;
  }

  /** Starts the idle and lifetime clocks; at expiry the refusal is recorded, then `destroy` runs. */
  arm(destroy: () => Promise<void>): void {
    const { idleMs, lifetimeMs } = this.#policy.limits;
    this.#timer = new LifeTimer({
      idleMs,
      lifetimeMs,
      onExpire: (why: Expiry) => {
        this.#expired = why;
        const reason = why === 'idle' ? `SANDBOX_IDLE: nothing ran for ${idleMs} ms (policy limits.idleMs)` : `SANDBOX_LIFETIME: it reached its maximum lifetime of ${lifetimeMs} ms (policy limits.lifetimeMs)`;
        this.#s.audit.append({ kind: 'decision', tenant: this.tenant, sandbox: this.id, door: 'limit', subject: why === 'idle' ? 'idleMs' : 'lifetimeMs', allow: false, reason });
        void destroy().catch(() => undefined);
      },
    });
    this.#destroy = destroy;
  }

  /** What the lifetime door is asked: the sandbox is open, ended by its clock, or destroyed. */
  #state(): 'open' | Expiry | 'destroyed' {
    if (this.#expired !== null) return this.#expired;
    return this.#ended || this.#timer?.done === true ? 'destroyed' : 'open';
  }

  /** Destroys the sandbox through its owner's path (so it is recorded), if it was armed. */
  destroy(): Promise<void> {
    return this.#destroy?.() ?? Promise.resolve();
  }

  /** Activity that holds off the idle clock (file operations). */
  busy<T>(work: () => Promise<T>): Promise<T> {
    return this.#timer === null ? work() : this.#timer.busy(work);
  }

  /**
   * One run: charges the tenant's runs per minute (QUOTA_RUNS), records it in flight so a crash
   * is recorded by the next start's reaper, and holds off the idle clock while it runs.
   */
  async run<T>(started: RunStarted, work: () => Promise<T>): Promise<T> {
    const door = decide(this.#policy, { door: 'lifetime', sandbox: this.id, state: this.#state() });
    if (!door.allow) throw new AirlockError(door.code, door.message);
    const registry = this.#s.registry();
    const run = started.run ?? '';
    this.#s.refusal(this.tenant, this.id, () => {
      registry.beginRun({ id: run, home: this.#s.home, tenant: this.tenant, sandbox: this.id, started: JSON.stringify(started) }, (bucket, now) => this.#s.quotas.take(this.tenant, bucket, now, this.#policy));
    });
    try {
      return await this.busy(work);
    } finally {
      registry.endRun(run);
    }
  }

  /** The sandbox is gone: stops its clocks and deletes its row. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#timer?.stop();
    this.#s.untrack(this.id);
    this.#s.registry().removeSandbox(this.id);
  }
}

/**
 * @example
 *   const sv = new Supervisor({ home, audit, quotas: { default: { sandboxes: 8 } } });
 *   await sv.ready();                       // registry open, reaper done
 *   const lease = sv.admit({ id, tenant, tier: 'isolate', policy });   // QUOTA_* when full
 *   lease.arm(() => sandbox.destroy());
 */
export class Supervisor {
  readonly home: string;
  readonly audit: AuditSink;
  readonly quotas: Quotas;
  readonly #instance = randomUUID();
  readonly #live = new Map<string, SandboxLease>();
  /** Ends of the one-shot runs in flight: close() ends their rows before closing the registry. */
  readonly #oneShots = new Set<() => void>();
  #registry: Registry | null = null;
  #ready: Promise<ReapReport> | null = null;

  constructor(options: SupervisorOptions) {
    this.home = options.home;
    this.audit = options.audit;
    this.quotas = new Quotas(options.quotas);
  }

  /** Opens the registry and runs the reaper, once; a failure is retried by the next call. */
  ready(): Promise<ReapReport> {
    this.#ready ??= (async () => {
      const registry = Registry.open();
      try {
        registry.addHost(this.#instance, this.home);
      } catch (error) {
        registry.close();
        throw error;
      }
      this.#registry = registry;
      return reap({ registry, home: this.home, audit: this.audit });
    })();
    this.#ready.catch(() => {
      this.#ready = null;
    });
    return this.#ready;
  }

  /** The start-up reap's report; called again later, a fresh pass. */
  async reap(): Promise<ReapReport> {
    if (this.#ready === null) return this.ready();
    await this.#ready;
    return reap({ registry: this.registry(), home: this.home, audit: this.audit });
  }

  registry(): Registry {
    if (this.#registry === null) throw new AirlockError('INTERNAL', 'the registry is used before ready()');
    return this.#registry;
  }

  /** Runs a registry step; a quota refusal is recorded as a denied decision before it is thrown. */
  refusal(tenant: string, sandbox: string, step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error instanceof AirlockError && Object.hasOwn(LIMIT_OF, error.code)) {
        this.audit.append({ kind: 'decision', tenant, sandbox, door: 'limit', subject: LIMIT_OF[error.code] ?? error.code, allow: false, reason: `${error.code}: ${error.message}` });
      }
      throw error;
    }
  }

  /** Admits one more sandbox of `tenant` (QUOTA_SANDBOXES, QUOTA_MEMORY) and records its row. */
  admit(init: { readonly id: string; readonly tenant: string; readonly tier: Tier; readonly policy: CompiledPolicy }): SandboxLease {
    const { id, tenant, tier, policy } = init;
    const memoryMiB = policy.limits.memoryMiB;
    this.refusal(tenant, id, () => {
      this.registry().admitSandbox({ id, home: this.home, tenant, tier, memoryMiB }, (usage) => this.quotas.admit(tenant, usage, policy));
    });
    const lease = new SandboxLease(this, id, tenant, policy);
    this.#live.set(id, lease);
    return lease;
  }

  /**
   * A one-shot run (airlock.run): its sandbox and its run are admitted in one registry transaction
   * (QUOTA_SANDBOXES, QUOTA_MEMORY, QUOTA_RUNS, each refusal recorded). It has no idle or lifetime
   * clock: the run's own limits bound it. Returns what ends both rows, also in one transaction.
   */
  admitOneShot(init: { readonly id: string; readonly tenant: string; readonly policy: CompiledPolicy }, started: RunStarted): () => void {
    const { id, tenant, policy } = init;
    const registry = this.registry();
    const memoryMiB = policy.limits.memoryMiB;
    const run = started.run ?? '';
    this.refusal(tenant, id, () => {
      registry.admitOneShot(
        { id, home: this.home, tenant, tier: started.tier, memoryMiB },
        (usage) => this.quotas.admit(tenant, usage, policy),
        { id: run, home: this.home, tenant, sandbox: id, started: JSON.stringify(started) },
        (bucket, now) => this.quotas.take(tenant, bucket, now, policy),
      );
    });
    const end = (): void => {
      if (!this.#oneShots.delete(end)) return;
      registry.endOneShot(run, id);
    };
    this.#oneShots.add(end);
    return end;
  }

  /** The lease of a live sandbox of this host. */
  lease(id: string): SandboxLease | undefined {
    return this.#live.get(id);
  }

  untrack(id: string): void {
    this.#live.delete(id);
  }

  /** Destroys the sandboxes still open (so each is recorded), then leaves the registry. */
  async close(): Promise<void> {
    await Promise.all([...this.#live.values()].map((lease) => lease.destroy().catch(() => undefined)));
    const registry = this.#registry;
    if (registry === null) return;
    // A one-shot run still in flight is ended by the tier's close, which comes next; its rows go now.
    for (const end of [...this.#oneShots]) end();
    try {
      registry.removeHost(this.#instance);
    } finally {
      registry.close();
      this.#registry = null;
    }
  }
}

