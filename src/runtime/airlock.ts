/**
 * createAirlock(): the library's front door. One Airlock holds the tiers, the audit sink and the
 * host's tool handlers; every front end (CLI, server, MCP) goes through `run()` or `sandbox()`.
 */
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { AuditSink } from '../audit/event.ts';
import { DurableAuditSink } from '../audit/durable-sink.ts';
import { SqliteAuditStore } from '../audit/sqlite-store.ts';
import { ContainerPool, createContainerSandbox, type ContainerSandbox, type ContainerSandboxOptions as ContainerCreateOptions } from '../container/index.ts';
import { forwarderPlan } from '../egress/forwarder.ts';
import { EgressGateway } from '../egress/gateway.ts';
import type { SecretSource } from '../egress/secrets.ts';
import { AirlockError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { RunResult, Tier, TierResult } from '../core/result.ts';
import { compilePolicy, documentKey, type CompiledPolicy } from '../policy/compile.ts';
import { parseRunRequest, plainInput, TENANT_ID, type Language, type RunRequest } from '../policy/request.ts';
import { DENY_ALL, type PolicyDocument } from '../policy/schema.ts';
import { prepareCode } from '../isolate/prepare.ts';
import { IsolateTier, type IsolateRun } from '../isolate/tier.ts';
import type { ToolHandler } from '../isolate/tool-bridge.ts';
import { BoundedCache } from './bounded-cache.ts';
import { failedResult, NOT_CHOSEN, SANDBOX_TIER } from './failed-result.ts';
import { InFlight } from './in-flight.ts';
import { airlockHome } from './home.ts';
import { containerEntry, type ContainerEntry } from './container-run.ts';
import { DenialTap } from './denials.ts';
import { ManagedContainer, recordedExec, tierSink } from './managed-container.ts';
import { DESTROYED_BY_OWNER, runEnded, runStarted, type RunStarted } from './run-events.ts';
import { checkAirlockOptions, checkRunOptions, checkSandboxOptions, type AirlockOptions, type ContainerSandboxOptions, type SandboxOptions } from './options.ts';
import { resultCheck } from './result-check.ts';
import { chooseTier } from './tier-choice.ts';
import { Sandbox, type SandboxHost, type SandboxRunOptions } from './sandbox.ts';
import type { ReapReport } from './reaper.ts';
import { Supervisor, type SandboxLease } from './supervisor.ts';

export type { AirlockOptions, ContainerSandboxOptions, SandboxOptions } from './options.ts';

const NO_SECRETS: SecretSource = { get: () => undefined };

/** Code as a refused run's run.started keeps it: text as given; WebAssembly bytes as base64, as a prepared module is. */
function asGiven(code: string | Uint8Array, language: Language | undefined): string | Uint8Array {
  return language === 'wasm' && typeof code !== 'string' ? Buffer.from(code).toString('base64') : code;
}

type PreparedRun = IsolateRun & { readonly started: RunStarted; readonly tierReason: string };


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
  readonly #tools: Readonly<Record<string, ToolHandler>>;
  readonly #home: string;
  readonly #gateway: EgressGateway;
  /** What the gateway and the container tier record their decisions through: a run's denials are its violations. */
  readonly #tap: DenialTap;
  readonly #containers = new Set<ManagedContainer>();
  #pool: ContainerPool | null = null;
  readonly #policies = new BoundedCache<CompiledPolicy>(64);
  readonly #schemas = new BoundedCache<ValidateFunction>(64);
  readonly #supervisor: Supervisor;
  #closed = false;
  /** Runs, execs and sandboxes being made: close() stops them, then waits for each to record how it ended. */
  readonly #inFlight = new InFlight();
  #closedDone: Promise<void> | null = null;

  constructor(options: AirlockOptions) {
    const home = airlockHome(options.home);
    this.#home = home;
    this.audit = options.audit ?? new DurableAuditSink(SqliteAuditStore.open({ path: join(home, 'audit.db') }));
    this.#tools = options.tools ?? {};
    this.#supervisor = new Supervisor({ home, audit: this.audit, ...(options.quotas === undefined ? {} : { quotas: options.quotas }) });
    const workersPerTenant = options.isolate?.workersPerTenant;
    this.#tap = new DenialTap(this.audit);
    this.#gateway = new EgressGateway({ audit: this.#tap, secrets: options.secrets ?? NO_SECRETS, ...options.egress });
    const gateway = this.#gateway;
    this.isolate = new IsolateTier({
      home,
      audit: this.audit,
      handlers: this.#tools,
      egress: { fetch: (ctx, req) => gateway.fetch(ctx, req), release: (ctx) => gateway.release(ctx) },
      ...(workersPerTenant === undefined ? {} : { workersPerTenant }),
    });
  }

  /** Compiled policies are cached per tenant: nothing, not even a cache entry, is shared across tenants. */
  #compile(doc: unknown, tenant: string): CompiledPolicy {
    const policy = this.#policies.get(`${tenant}\n${documentKey(doc, 'INVALID_POLICY', 'the policy')}`, () => compilePolicy(doc));
    const missing = [...policy.tools.keys()].filter((name) => !Object.hasOwn(this.#tools, name));
    if (missing.length > 0) {
      throw new AirlockError('INVALID_POLICY', `the policy grants ${missing.map((n) => `"${n}"`).join(', ')}, which this host has no handler for: register them in createAirlock({ tools })`);
    }
    return policy;
  }

  /**
   * How a container sandbox is made: from the pool (sandboxes made ahead) when it needs no egress;
   * otherwise here, with a proxy socket private to its uid and a forwarder in its network namespace.
   */
  #containerWay(tenant: string, sandbox: string, policy: CompiledPolicy): { with: Pick<ContainerCreateOptions, 'pool' | 'egress'>; done: () => Promise<void> } {
    if (policy.routes.length === 0) {
      this.#pool ??= new ContainerPool({ home: this.#home });
      return { with: { pool: this.#pool }, done: () => Promise.resolve() };
    }
    const gateway = this.#gateway;
    const held: { close?: () => Promise<void> } = {};
    const egress: ContainerCreateOptions['egress'] = async (owner) => {
      const socket = await gateway.socketFor({ tenant, sandbox, policy }, { owner: { uid: owner.uid, gid: owner.gid } });
      held.close = () => socket.close();
      const plan = forwarderPlan({ socketPath: socket.path });
      return { binds: plan.binds, env: plan.env, sidecar: plan.sidecarArgv, argvPrefix: plan.waitArgv };
    };
    return {
      with: { egress },
      done: async () => {
        await held.close?.();
        gateway.release({ tenant, sandbox });
      },
    };
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
    const lease = this.#supervisor.admit({ id: newId('sbx'), tenant, tier, policy });
    if (tier === 'container') {
      let made: { readonly managed: ManagedContainer };
      try {
        made = await this.#makeContainer(tenant, lease, policy);
      } catch (error) {
        lease.end();
        throw error;
      }
      if (this.#inFlight.stopping()) {
        await made.managed.destroy().catch(() => undefined);
        throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed while the sandbox was being made: it was destroyed again; create a new one');
      }
      lease.arm(() => made.managed.destroy());
      return made.managed;
    }
    const sandbox = new Sandbox({ id: lease.id, tenant, tier, policy, host: this });
    this.audit.append({ kind: 'sandbox.created', tenant, sandbox: sandbox.id, tier, policyHash: policy.hash });
    lease.arm(() => sandbox.destroy());
    return sandbox;
  }

  /**
   * Makes a container sandbox for `lease` and records it; destroying it records that, ends the
   * lease and releases its egress. The tier's sandbox itself (`box`) stays with the runtime.
   */
  async #makeContainer(tenant: string, lease: SandboxLease, policy: CompiledPolicy): Promise<{ readonly managed: ManagedContainer; readonly box: ContainerSandbox }> {
    const way = this.#containerWay(tenant, lease.id, policy);
    let box: ContainerSandbox;
    try {
      box = await createContainerSandbox({ tenant, sandboxId: lease.id, policy, audit: tierSink(this.#tap), home: this.#home, ...way.with });
    } catch (error) {
      await way.done();
      throw error;
    }
    const managed = ManagedContainer.created({
      box,
      lease,
      policy,
      audit: this.audit,
      track: (work) => this.#inFlight.track(work),
      onGone: async () => {
        this.#containers.delete(managed);
        await way.done();
      },
    });
    this.#containers.add(managed);
    return { managed, box };
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

  /** Checks a run's code and options and builds its run.started event. Throws on bad input. */
  #prepareRun(id: string, tenant: string, sandbox: string, policy: CompiledPolicy, code: string | Uint8Array, options: SandboxRunOptions, tierReason: string): PreparedRun {
    const language = options.language ?? 'js';
    chooseTier({ tier: 'isolate', language });
    if (language !== 'js' && language !== 'ts' && language !== 'wasm') throw new AirlockError('INTERNAL', `${language} passed the isolate tier's language check`);
    const prepared = prepareCode(code, language, policy.limits.codeBytes);
    const input = plainInput(options.input);
    const checkResult = resultCheck(options.resultSchema, this.#schemas, tenant);
    const started = runStarted({ id, tenant, sandbox, policy, code: prepared.original, language }, 'isolate', tierReason);
    return { id, tenant, sandbox, policy, code: prepared, input, checkResult, started, tierReason };
  }

  /**
   * A run refused by its own checks before any sandbox was made (code too large, not UTF-8, a
   * syntax error): recorded on both tiers as run.started (the code as given) and run.ended.
   */
  async #refused(started: RunStarted, error: unknown, startedAt: number): Promise<RunResult> {
    const result = failedResult(started.run ?? newId('run'), started.tier, error, startedAt, started.tierReason ?? NOT_CHOSEN);
    this.audit.append(started);
    this.#ended(started, result);
    await this.audit.flush().catch(() => undefined);
    return result;
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
      let run: PreparedRun;
      try {
        run = this.#prepareRun(id, tenant, sandbox.id, policy, code, options, SANDBOX_TIER);
      } catch (error) {
        return await this.#refused(runStarted({ id, tenant, sandbox: sandbox.id, policy, code: asGiven(code, options.language), language: options.language ?? 'js' }, 'isolate', SANDBOX_TIER), error, started);
      }
      this.audit.append(run.started);
      const result = await this.#leaseOf(sandbox).run(run.started, () => this.isolate.run(run));
      this.#ended(run, result);
      await this.audit.flush();
      return { ...result, tierReason: SANDBOX_TIER };
    } catch (error) {
      const result = failedResult(id, sandbox.tier, error, started, SANDBOX_TIER);
      this.#ended({ tenant, sandbox: sandbox.id }, result);
      await this.audit.flush().catch(() => undefined);
      return result;
    }
  }

  /**
   * A one-shot isolate run: the sandbox exists only for it, so its registry rows are written in
   * one transaction each way, and the way out overlaps the audit's fsync. Code refused by its
   * checks (size, UTF-8, syntax, language) is recorded as a run that never had a sandbox.
   */
  async #runOnce(tenant: string, policyDoc: PolicyDocument, code: string | Uint8Array, options: SandboxRunOptions, tierReason: string): Promise<RunResult> {
    if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: create a new one');
    const policy = this.#compile(policyDoc, tenant);
    const sandbox = newId('sbx');
    const id = newId('run');
    let run: PreparedRun;
    try {
      run = this.#prepareRun(id, tenant, sandbox, policy, code, options, tierReason);
    } catch (error) {
      return await this.#refused(runStarted({ id, tenant, sandbox, policy, code: asGiven(code, options.language), language: options.language ?? 'js' }, 'isolate', tierReason), error, performance.now());
    }
    await this.#supervisor.ready();
    const started = performance.now();
    let end: () => void;
    try {
      end = this.#supervisor.admitOneShot({ id: sandbox, tenant, policy }, run.started);
    } catch (error) {
      // Refused (a quota): the decision is recorded, and so is the run that did not happen.
      const refused = failedResult(run.id, 'isolate', error, started, tierReason);
      this.#ended(run, refused);
      await this.audit.flush().catch(() => undefined);
      return refused;
    }
    this.audit.append({ kind: 'sandbox.created', tenant, sandbox, tier: 'isolate', policyHash: policy.hash });
    this.audit.append(run.started);
    let result: RunResult;
    try {
      result = { ...(await this.isolate.run(run)), tierReason };
    } catch (error) {
      result = failedResult(run.id, 'isolate', error, started, tierReason);
    }
    this.#ended(run, result);
    this.audit.append({ kind: 'sandbox.destroyed', tenant, sandbox, reason: DESTROYED_BY_OWNER });
    const durable = this.audit.flush();
    end();
    try {
      await durable;
    } catch (error) {
      return failedResult(run.id, 'isolate', error, started, tierReason);
    }
    return result;
  }

  /**
   * A one-shot container run, recorded as an isolate one-shot is: sandbox.created, run.started (the
   * source and its hash), the decisions, run.ended, sandbox.destroyed. A run refused or stopped
   * before its command (code over the limit, a quota, no sandbox, airlock closing) still has its
   * run.started and run.ended under the id its result carries. Its violations are the denials
   * recorded for its sandbox, egress included, collected once its egress socket is closed.
   */
  async #runContainerOnce(tenant: string, policyDoc: PolicyDocument, code: string | Uint8Array, language: Language, tierReason: string): Promise<RunResult> {
    const startedAt = performance.now();
    const policy = this.#compile(policyDoc, tenant);
    const id = newId('run');
    const sandbox = newId('sbx');
    const started = runStarted({ id, tenant, sandbox, policy, code, language }, 'container', tierReason);
    let entry: ContainerEntry;
    try {
      entry = containerEntry(language, code, policy);
    } catch (error) {
      return await this.#refused(started, error, startedAt);
    }
    await this.#supervisor.ready();
    const lease = this.#supervisor.admit({ id: sandbox, tenant, tier: 'container', policy });
    const watch = this.#tap.watch(lease.id);
    const stopped = (): AirlockError => new AirlockError('STOPPED_BY_HOST', 'airlock was closed before the command ran: run it again');
    // The exec records its own run; a run that never reached it is recorded here.
    const progress = { recorded: false };
    let result: TierResult;
    try {
      result = await lease.run(started, async () => {
        const { managed, box } = await this.#makeContainer(tenant, lease, policy);
        try {
          if (this.#inFlight.stopping()) throw stopped();
          await box.writeFile(entry.file, code);
          progress.recorded = true;
          const r = await recordedExec(this.audit, box, started, entry.argv, { timeoutMs: policy.limits.wallMs });
          return { id, tier: 'container', status: r.status, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, result: null, error: r.error, usage: r.usage, violations: [] };
        } catch (error) {
          // Whatever failed once airlock was closing (the sandbox destroyed under a write) failed for that.
          throw this.#inFlight.stopping() && !progress.recorded ? stopped() : error;
        } finally {
          await managed.destroy();
        }
      });
    } catch (error) {
      result = failedResult(id, 'container', error, startedAt, tierReason);
      if (!progress.recorded) {
        this.audit.append(started);
        this.#ended(started, result);
      }
    } finally {
      lease.end();
    }
    const violations = watch.stop();
    await this.audit.flush();
    return { ...result, violations, tierReason };
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
      this.#compile(req.policy ?? DENY_ALL, tenant);
      ({ tier, reason: tierReason } = chooseTier(req));
      if (tier === 'container') return await this.#runContainerOnce(tenant, req.policy ?? DENY_ALL, req.code, req.language ?? 'js', tierReason);
      return await this.#runOnce(tenant, req.policy ?? DENY_ALL, req.code, {
        ...(req.language === undefined ? {} : { language: req.language }),
        input: req.input,
        ...(req.resultSchema === undefined ? {} : { resultSchema: req.resultSchema }),
      }, tierReason);
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
    await this.isolate.close();
    await this.#inFlight.settled();
    await this.#supervisor.close().catch(() => undefined);
    await this.#pool?.close();
    await this.#gateway.close();
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
