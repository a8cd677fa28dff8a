/**
 * createAirlock(): the library's front door. One Airlock holds the tiers, the audit sink and the
 * host's tool handlers; every front end (CLI, server, MCP) goes through `run()` or `sandbox()`.
 */
import type { ValidateFunction } from 'ajv';
import type { AuditSink } from '../audit/event.ts';
import { defaultAuditSink } from '../audit/default-sink.ts';
import type { ContainerSandbox } from '../container/index.ts';
import type { EgressGateway } from '../egress/gateway.ts';
import { NO_SECRETS } from '../egress/secrets.ts';
import { AirlockError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { RunResult, Tier, TierResult } from '../core/result.ts';
import { compilePolicy, documentKey, type CompiledPolicy } from '../policy/compile.ts';
import { parseRunRequest, TENANT_ID, type RunRequest } from '../policy/request.ts';
import { DENY_ALL } from '../policy/schema.ts';
import { IsolateTier } from '../isolate/tier.ts';
import { BoundedCache } from './bounded-cache.ts';
import { failedResult, NOT_CHOSEN, SANDBOX_TIER } from './failed-result.ts';
import { InFlight } from './in-flight.ts';
import { airlockHome } from './home.ts';
import type { ContainerRunTier } from './container-run-tier.ts';
import { DenialTap } from './denials.ts';
import { IsolateRunTier, type PreparedIsolateRun } from './isolate-run-tier.ts';
import { ManagedContainer } from './managed-container.ts';
import { DESTROYED_BY_OWNER, refusedStarted, runEnded, type RunStarted } from './run-events.ts';
import type { Prepared, RunInput, RunTier } from './tier.ts';
import { checkAirlockOptions, checkRunOptions, checkSandboxOptions, isAuditSink, type AirlockOptions, type ContainerSandboxOptions, type SandboxOptions } from './options.ts';
import { chooseTier } from './tier-choice.ts';
import { Sandbox, type SandboxHost, type SandboxRunOptions } from './sandbox.ts';
import type { ReapReport } from './reaper.ts';
import { Supervisor, type SandboxLease } from './supervisor.ts';
import { ToolCatalog } from './tool-catalog.ts';
import { AuthorityHost, withLabel } from './authority-host.ts';
import { SubrunDoor, type SubrunHost, type SubrunParent } from './subrun.ts';
import { OnDemand } from './on-demand.ts';

export type { AirlockOptions, ContainerSandboxOptions, SandboxOptions } from './options.ts';

export interface Airlock extends AsyncDisposable {
  /** Runs one request in a one-shot sandbox. Never rejects: every failure is a coded RunResult. */
  run(request: RunRequest): Promise<RunResult>;
  /** A container workbench: exec, files, destroy. Rejects on a bad policy (INVALID_POLICY). */
  sandbox(options: ContainerSandboxOptions): Promise<ContainerSandbox>;
  /** An isolate sandbox for several runs under one policy. Rejects on a bad policy (INVALID_POLICY). */
  sandbox(options?: SandboxOptions & { readonly tier?: 'isolate' }): Promise<Sandbox>;
  /** Starts a tenant's workers ahead of its first run. */
  prewarm(tenant: string): Promise<void>;
  /**
   * Removes what crashed hosts left (processes, cgroups, mounts, workspaces, uid locks) and
   * records it. Runs by itself before this airlock's first sandbox; calling it again reaps again.
   */
  reap(): Promise<ReapReport>;
  readonly audit: AuditSink;
  readonly isolate: IsolateTier;
  close(): Promise<void>;
}

class AirlockImpl implements Airlock, SandboxHost {
  readonly audit: AuditSink;
  readonly isolate: IsolateTier;
  readonly #tools: ToolCatalog;
  /** Made at the first fetch or container that needs it (on-demand.ts): an isolate run without routes never loads it. */
  readonly #gateway: OnDemand<EgressGateway>;
  /** What the gateway and the container tier record their decisions through: a run's denials are its violations. */
  readonly #tap: DenialTap;
  /** The two tiers behind one interface (runtime/tier.ts); `#oneShot` drives either. */
  readonly #isolateTier: IsolateRunTier;
  readonly #containerTier: OnDemand<ContainerRunTier>;
  /** Container sandboxes handed out by sandbox(): close() destroys them, each recorded. */
  readonly #containers = new Set<ManagedContainer>();
  readonly #policies = new BoundedCache<CompiledPolicy>(64);
  readonly #schemas = new BoundedCache<ValidateFunction>(64);
  readonly #supervisor: Supervisor;
  #closed = false;
  /** Runs, execs and sandboxes being made: close() stops them, then waits for each to record how it ended. */
  readonly #inFlight = new InFlight();
  /** Warrants and labels: each run's authority beyond its policy (authority-host.ts). */
  readonly #authority: AuthorityHost;
  #closedDone: Promise<void> | null = null;

  constructor(options: AirlockOptions) {
    const home = airlockHome(options.home);
    this.audit = isAuditSink(options.audit) ? options.audit : defaultAuditSink(home, options.checkpoint, options.audit);
    this.#tools = new ToolCatalog(options.tools ?? {});
    this.#authority = new AuthorityHost({ home, catalog: this.#tools, warrants: options.warrants, labels: options.labels, audit: this.audit });
    this.#supervisor = new Supervisor({ home, audit: this.audit, ...(options.quotas === undefined ? {} : { quotas: options.quotas }) });
    this.#tap = new DenialTap(this.audit);
    const tap = this.#tap;
    const gateway = new OnDemand(async () => new (await import('../egress/gateway.ts')).EgressGateway({ audit: tap, secrets: options.secrets ?? NO_SECRETS, ...options.egress }));
    this.#gateway = gateway;
    this.isolate = new IsolateTier({
      home,
      audit: this.audit,
      handlers: this.#tools.handlers,
      egress: { fetch: async (ctx, req) => (await gateway.get()).fetch(ctx, req), release: (ctx) => void gateway.ifAsked((g) => g.release(ctx)) },
      ...options.isolate,
    });
    this.#isolateTier = new IsolateRunTier(this.isolate, this.#schemas);
    const closing = this.#inFlight.signal;
    this.#containerTier = new OnDemand(async () => new (await import('./container-run-tier.ts')).ContainerRunTier({ home, gateway: () => gateway.get(), tap, closing }));
  }

  /** Compiled policies are cached per tenant: nothing, not even a cache entry, is shared across tenants. */
  #compile(doc: unknown, tenant: string): CompiledPolicy {
    const policy = this.#policies.get(`${tenant}\n${documentKey(doc, 'INVALID_POLICY', 'the policy')}`, () => compilePolicy(doc));
    this.#tools.check(policy);
    return policy;
  }

  sandbox(options: ContainerSandboxOptions): Promise<ContainerSandbox>;
  sandbox(options?: SandboxOptions): Promise<Sandbox>;
  sandbox(options: SandboxOptions = {}): Promise<Sandbox | ContainerSandbox> {
    // Tracked: close() waits for a sandbox being made, which then finds airlock closed and undoes itself.
    return this.#inFlight.track(this.#sandbox(options));
  }

  async #sandbox(given: SandboxOptions): Promise<Sandbox | ContainerSandbox> {
    const options = checkSandboxOptions(given);
    if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: create a new one');
    const tenant = options.tenant ?? 'default';
    if (!TENANT_ID.test(tenant)) throw new AirlockError('INVALID_REQUEST', `tenant ${JSON.stringify(tenant)} is not a tenant id: use 1–63 of a-z 0-9 _ -`);
    const tier = options.tier ?? 'isolate';
    const policy = this.#compile(options.policy ?? DENY_ALL, tenant);
    await this.#supervisor.ready();
    if (this.#inFlight.stopping()) throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed while the sandbox was being made: create a new one');
    const id = newId('sbx');
    // Its warrant is verified before anything of it is made (a refusal is recorded), and again at each run.
    const authority = this.#authority.forRun({ tenant, sandbox: id, id, warrant: options.warrant });
    const lease = this.#supervisor.admit({ id, tenant, tier, policy });
    if (tier === 'container') {
      let managed: ManagedContainer;
      try {
        managed = await this.#makeContainer(tenant, lease, policy, authority);
      } catch (error) {
        lease.end();
        throw error;
      }
      if (this.#inFlight.stopping()) {
        await managed.destroy().catch(() => undefined);
        throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed while the sandbox was being made: it was destroyed again; create a new one');
      }
      lease.arm(() => managed.destroy());
      return managed;
    }
    const sandbox = new Sandbox({ id: lease.id, tenant, tier, policy, host: this, warrant: options.warrant });
    this.audit.append({ kind: 'sandbox.created', tenant, sandbox: sandbox.id, tier, policyHash: policy.hash });
    lease.arm(() => sandbox.destroy());
    return sandbox;
  }

  /** Makes a container sandbox for `lease` and records it; destroying it records that and ends the lease. */
  async #makeContainer(tenant: string, lease: SandboxLease, policy: CompiledPolicy, authority: ReturnType<AuthorityHost['forRun']>): Promise<ManagedContainer> {
    const tier = await this.#containerTier.get();
    const box = await tier.create({ tenant, sandbox: lease.id, policy, authority });
    const managed = ManagedContainer.created({
      box: box.sandbox,
      lease,
      policy,
      authority,
      audit: this.audit,
      track: (work) => this.#inFlight.track(work),
      remove: async () => {
        this.#containers.delete(managed);
        await tier.destroy(box);
      },
    });
    this.#containers.add(managed);
    return managed;
  }

  destroyed(sandbox: Sandbox, reason: string): void {
    this.audit.append({ kind: 'sandbox.destroyed', tenant: sandbox.tenant, sandbox: sandbox.id, reason });
    this.#supervisor.lease(sandbox.id)?.end();
  }

  #leaseOf(sandbox: Sandbox): SandboxLease {
    const lease = this.#supervisor.lease(sandbox.id);
    if (lease === undefined) throw new AirlockError('SANDBOX_CLOSED', `sandbox ${sandbox.id} was destroyed: create a new one`);
    return lease;
  }

  /** A run refused by its own checks before any sandbox was made (too large, a syntax error): run.started (the code as given) and run.ended. */
  async #refused(started: RunStarted, error: unknown, startedAt: number): Promise<RunResult> {
    const result = failedResult(started.run ?? newId('run'), started.tier, error, startedAt, started.tierReason ?? NOT_CHOSEN);
    this.audit.append(started);
    this.#ended(started, result);
    await this.audit.flush().catch(() => undefined);
    return result;
  }

  /** A top-level run's delegation door: its sub-runs go through `#oneShot` like any run. */
  #delegation(run: Pick<SubrunParent, 'tenant' | 'run' | 'sandbox' | 'policy' | 'authority'>): Pick<RunInput, 'delegation' | 'budget' | 'lane'> {
    const budget = { spent: 0 };
    const host: SubrunHost = {
      audit: this.audit,
      authority: (child) => {
        const made = this.#authority.forRun({ ...child, delegation: 'granted' });
        if (made === null) throw new AirlockError('INTERNAL', 'a sub-run got no authority');
        return made;
      },
      run: (child) => {
        if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: the sub-run was not started');
        return this.#inFlight.track(this.#oneShot(this.#isolateTier, child));
      },
    };
    return { delegation: new SubrunDoor({ ...run, depth: 0, startedAt: Date.now(), budget }, host), budget, lane: 0 };
  }

  #ended(run: { readonly tenant: string; readonly sandbox: string }, result: TierResult): void {
    this.audit.append(runEnded(run, result));
  }

  runIn(sandbox: Sandbox, code: string | Uint8Array, options: SandboxRunOptions): Promise<RunResult> {
    return this.#inFlight.track(this.#runIn(sandbox, code, options));
  }

  async #runIn(sandbox: Sandbox, code: string | Uint8Array, given: SandboxRunOptions): Promise<RunResult> {
    const started = performance.now();
    const id = newId('run');
    const { tenant, policy } = sandbox;
    try {
      const options = checkRunOptions(given);
      if (!sandbox.open || this.#closed) throw new AirlockError('SANDBOX_CLOSED', `sandbox ${sandbox.id} was destroyed: create a new one`);
      const authority = this.#authority.forRun({ tenant, sandbox: sandbox.id, id, warrant: sandbox.warrant });
      const input: RunInput = { id, tenant, sandbox: sandbox.id, policy, code, language: options.language ?? 'js', input: options.input, resultSchema: options.resultSchema, tierReason: SANDBOX_TIER, authority };
      let run: PreparedIsolateRun;
      try {
        run = this.#isolateTier.prepare(input);
      } catch (error) {
        return await this.#refused(refusedStarted(input, 'isolate'), error, started);
      }
      this.audit.append(run.started);
      const result = await this.#leaseOf(sandbox).run(run.started, () => this.#isolateTier.run({ sandbox: sandbox.id }, run));
      const labelled = withLabel(result, authority);
      this.#ended(run, labelled);
      await this.audit.flush();
      return { ...labelled, tierReason: SANDBOX_TIER };
    } catch (error) {
      const result = failedResult(id, sandbox.tier, error, started, SANDBOX_TIER);
      this.#ended({ tenant, sandbox: sandbox.id }, result);
      await this.audit.flush().catch(() => undefined);
      return result;
    }
  }

  /**
   * One run in a sandbox made for it, on either tier, recorded the same way: sandbox.created,
   * run.started (the code and its hash), the decisions, run.ended, sandbox.destroyed. Its sandbox
   * and its run are admitted, and later ended, in one registry transaction each way; the way out
   * overlaps the audit's fsync. A run refused before its sandbox is recorded under the id its
   * result carries: by its code's checks, or a sandbox that could not be made, as run.started and
   * run.ended; by a quota, as the decision and run.ended (it never started).
   */
  async #oneShot<P extends Prepared, B>(tier: RunTier<P, B>, input: RunInput): Promise<RunResult> {
    const startedAt = performance.now();
    let prepared: P;
    try {
      prepared = tier.prepare(input);
    } catch (error) {
      return await this.#refused(refusedStarted(input, tier.name), error, startedAt);
    }
    const { started } = prepared;
    await this.#supervisor.ready();
    let end: () => void;
    try {
      end = this.#supervisor.admitOneShot({ id: input.sandbox, tenant: input.tenant, policy: input.policy }, started);
    } catch (error) {
      // Refused (a quota): the decision is recorded, and so is the end of the run that never started.
      const result = failedResult(input.id, tier.name, error, startedAt, input.tierReason);
      this.#ended(started, result);
      await this.audit.flush().catch(() => undefined);
      return result;
    }
    let box: B;
    try {
      box = await tier.create(input);
    } catch (error) {
      end();
      return await this.#refused(started, error, startedAt);
    }
    this.audit.append({ kind: 'sandbox.created', tenant: input.tenant, sandbox: input.sandbox, tier: tier.name, policyHash: input.policy.hash });
    this.audit.append(started);
    let result: TierResult;
    try {
      result = withLabel(await tier.run(box, prepared), input.authority ?? null);
    } catch (error) {
      result = failedResult(input.id, tier.name, error, startedAt, input.tierReason);
    }
    this.#ended(started, result);
    let violations = result.violations;
    try {
      violations = [...violations, ...(await tier.destroy(box))];
      this.audit.append({ kind: 'sandbox.destroyed', tenant: input.tenant, sandbox: input.sandbox, reason: DESTROYED_BY_OWNER });
    } catch (error) {
      // Not all of it could be removed: the run answers with that, and no sandbox.destroyed is claimed.
      result = failedResult(input.id, tier.name, error, startedAt, input.tierReason);
    }
    const durable = this.audit.flush();
    end();
    try {
      await durable;
    } catch (error) {
      return failedResult(input.id, tier.name, error, startedAt, input.tierReason);
    }
    return { ...result, violations, tierReason: input.tierReason };
  }

  run(request: RunRequest): Promise<RunResult> {
    return this.#inFlight.track(this.#run(request));
  }

  async #run(request: RunRequest): Promise<RunResult> {
    const started = performance.now();
    // A request refused before it parses still answers with the tier it named, if it named one.
    const raw: unknown = request;
    const named = typeof raw === 'object' && raw !== null ? (raw as { tier?: unknown }).tier : undefined;
    let tier: Tier = named === 'container' ? 'container' : 'isolate';
    let tierReason = NOT_CHOSEN;
    try {
      const req = parseRunRequest(request);
      tier = req.tier ?? tier;
      const tenant = req.tenant ?? 'default';
      if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: create a new one');
      // The policy is checked first (INVALID_POLICY), so the choice reads a document compile() accepted.
      const policy = this.#compile(req.policy ?? DENY_ALL, tenant);
      ({ tier, reason: tierReason } = chooseTier(req));
      const [id, sandbox] = [newId('run'), newId('sbx')];
      // Sub-runs are an isolate-tier door, granted by policy.limits.subruns (runtime/subrun.ts).
      const delegating = tier === 'isolate' && policy.limits.subruns > 0;
      const authority = this.#authority.forRun({ tenant, sandbox, id, warrant: req.warrant, delegation: delegating ? 'granted' : 'none' });
      const input: RunInput = {
        id,
        tenant,
        sandbox,
        policy,
        code: req.code,
        language: req.language ?? 'js',
        input: req.input,
        resultSchema: req.resultSchema,
        tierReason,
        authority,
        ...(delegating && authority !== null ? this.#delegation({ tenant, run: id, sandbox, policy, authority }) : {}),
      };
      return await (tier === 'container' ? this.#oneShot(await this.#containerTier.get(), input) : this.#oneShot(this.#isolateTier, input));
    } catch (error) {
      // A refusal (a quota, say) was recorded as a decision: durable before the answer, like a run.
      await this.audit.flush().catch(() => undefined);
      return failedResult(newId('run'), tier, error, started, tierReason);
    }
  }

  async prewarm(tenant: string): Promise<void> {
    await this.#supervisor.ready();
    return this.isolate.prewarm(tenant);
  }

  reap(): Promise<ReapReport> {
    return this.#supervisor.reap();
  }

  /**
   * Stops everything in flight, then closes: container sandboxes are destroyed and isolate workers
   * killed, each run and exec still records how it ended (killed, STOPPED_BY_HOST) and is flushed
   * to the audit log, and only then do the registry, the pools, the gateway and the log close.
   */
  close(): Promise<void> {
    // Every caller waits for the one close: a second call does not return before the log is closed.
    this.#closedDone ??= this.#close();
    return this.#closedDone;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#inFlight.stop();
    await Promise.all([...this.#containers].map((managed) => managed.destroy().catch(() => undefined)));
    await this.#containerTier.ifAsked((tier) => tier.destroyAll());
    await this.isolate.close();
    await this.#inFlight.settled();
    await this.#supervisor.close().catch(() => undefined);
    await this.#containerTier.ifAsked((tier) => tier.close());
    await this.#gateway.ifAsked((g) => g.close());
    this.#authority[Symbol.dispose]();
    await this.audit.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * @example
 *   await using airlock = createAirlock({ tools: { lookup: async ({ id }) => db.get(id) } });
 *   const result = await airlock.run({ code: 'export default 6 * 7' });
 */
export function createAirlock(options: AirlockOptions = {}): Airlock {
  return new AirlockImpl(checkAirlockOptions(options));
}
