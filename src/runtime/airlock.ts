/**
 * createAirlock(): the library's front door. One Airlock holds the tiers, the audit sink and the
 * host's tool handlers; every front end (CLI, server, MCP) goes through `run()` or `sandbox()`.
 */
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { AuditSink } from '../audit/event.ts';
import { DurableAuditSink } from '../audit/durable-sink.ts';
import { SqliteAuditStore } from '../audit/sqlite-store.ts';
import { ContainerPool, createContainerSandbox, type ContainerSandbox, type ExecOptions, type ContainerSandboxOptions as ContainerCreateOptions } from '../container/index.ts';
import { forwarderPlan } from '../egress/forwarder.ts';
import { EgressGateway, type EgressGatewayOptions } from '../egress/gateway.ts';
import type { SecretSource } from '../egress/secrets.ts';
import { AirlockError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { RunResult, Tier } from '../core/result.ts';
import { compilePolicy, documentKey, type CompiledPolicy } from '../policy/compile.ts';
import { parseRunRequest, plainInput, TENANT_ID, type RunRequest } from '../policy/request.ts';
import { DENY_ALL, type PolicyDocument } from '../policy/schema.ts';
import { prepareCode } from '../isolate/prepare.ts';
import { IsolateTier, type IsolateRun } from '../isolate/tier.ts';
import type { ToolHandler } from '../isolate/tool-bridge.ts';
import { BoundedCache } from './bounded-cache.ts';
import { failedResult } from './failed-result.ts';
import { InFlight } from './in-flight.ts';
import { airlockHome } from './home.ts';
import { runInContainer, watchedRun } from './container-run.ts';
import { checkAirlockOptions, checkRunOptions, checkSandboxOptions } from './options.ts';
import { resultCheck } from './result-check.ts';
import { Sandbox, type SandboxHost, type SandboxRunOptions } from './sandbox.ts';
import type { QuotaOptions } from './quotas.ts';
import type { ReapReport } from './reaper.ts';
import { managedContainer, runStarted, Supervisor, type RunStarted, type SandboxLease } from './supervisor.ts';

export interface AirlockOptions {
  /** State directory; default $AIRLOCK_HOME or ~/.airlock. */
  readonly home?: string;
  /** Where audit events go; default: the hash-chained SQLite log at $AIRLOCK_HOME/audit.db. */
  readonly audit?: AuditSink;
  /** Host functions a policy may grant by name. They run on the host, never in a sandbox. */
  readonly tools?: Readonly<Record<string, ToolHandler>>;
  readonly isolate?: { readonly workersPerTenant?: number };
  /**
   * Where credentialed routes' secrets come from (secretsFromEnv / secretsFromFile): the host's,
   * never the request's. Default: none, so a credentialed route fails with SECRET_UNAVAILABLE.
   */
  readonly secrets?: SecretSource;
  /** Egress gateway settings: a resolver or an extra CA (tests, private upstreams). */
  readonly egress?: Pick<EgressGatewayOptions, 'resolve' | 'ca' | 'limits'>;
  /** Per-tenant quotas (src/runtime/quotas.ts), counted across every host using this home. */
  readonly quotas?: QuotaOptions;
}

const NO_SECRETS: SecretSource = { get: () => undefined };

type PreparedRun = IsolateRun & { readonly started: RunStarted };

export interface SandboxOptions {
  readonly tenant?: string;
  readonly tier?: Tier;
  readonly policy?: PolicyDocument;
}

export type ContainerSandboxOptions = SandboxOptions & { readonly tier: 'container' };

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
  readonly #containers = new Set<ContainerSandbox>();
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
    this.#gateway = new EgressGateway({ audit: this.audit, secrets: options.secrets ?? NO_SECRETS, ...options.egress });
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
    this.#pool ??= new ContainerPool({ home: this.#home });
    const pool = this.#pool;
    if (policy.routes.length === 0) return { with: { pool }, done: () => Promise.resolve() };
    const gateway = this.#gateway;
    const held: { close?: () => Promise<void> } = {};
    const egress: ContainerCreateOptions['egress'] = async (owner) => {
      const socket = await gateway.socketFor({ tenant, sandbox, policy }, { owner: { uid: owner.uid, gid: owner.gid } });
      held.close = () => socket.close();
      const plan = forwarderPlan({ socketPath: socket.path });
      return { binds: plan.binds, env: plan.env, sidecar: plan.sidecarArgv, argvPrefix: plan.waitArgv };
    };
    // Made outside the pool (its egress is per sandbox), but started through the pool's process helper.
    return {
      with: { egress, pool },
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
      let box: ContainerSandbox;
      const way = this.#containerWay(tenant, lease.id, policy);
      try {
        box = await createContainerSandbox({ tenant, sandboxId: lease.id, policy, audit: this.audit, home: this.#home, ...way.with });
      } catch (error) {
        lease.end();
        await way.done();
        throw error;
      }
      if (this.#inFlight.stopping()) {
        await box.destroy().catch(() => undefined);
        lease.end();
        await way.done();
        throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed while the sandbox was being made: it was destroyed again; create a new one');
      }
      const managed = managedContainer(box, lease, policy, () => {
        this.#containers.delete(managed);
        void way.done();
      });
      const exec = managed.exec.bind(managed);
      Object.assign(managed, { exec: (argv: readonly string[], execOptions?: ExecOptions) => this.#inFlight.track(exec(argv, execOptions)) });
      this.#containers.add(managed);
      lease.arm(() => managed.destroy());
      return managed;
    }
    const sandbox = new Sandbox({ id: lease.id, tenant, tier, policy, host: this });
    this.audit.append({ kind: 'sandbox.created', tenant, sandbox: sandbox.id, tier, policyHash: policy.hash });
    lease.arm(() => sandbox.destroy());
    return sandbox;
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
  #prepareRun(tenant: string, sandbox: string, policy: CompiledPolicy, code: string | Uint8Array, options: SandboxRunOptions): PreparedRun {
    const language = options.language ?? 'js';
    if (language !== 'js' && language !== 'ts' && language !== 'wasm') {
      throw new AirlockError('UNSUPPORTED_LANGUAGE', `${language} runs on the container tier: the isolate tier runs js, ts and wasm`);
    }
    const prepared = prepareCode(code, language, policy.limits.codeBytes);
    const input = plainInput(options.input);
    const checkResult = resultCheck(options.resultSchema, this.#schemas, tenant);
    const id = newId('run');
    const started = runStarted({ id, tenant, sandbox, policy, code: prepared.original, language }, 'isolate');
    return { id, tenant, sandbox, policy, code: prepared, input, checkResult, started };
  }

  #ended(run: { readonly tenant: string; readonly sandbox: string }, result: RunResult): void {
    this.audit.append({ kind: 'run.ended', tenant: run.tenant, sandbox: run.sandbox, run: result.id, status: result.status, errorCode: result.error?.code ?? null, usage: result.usage });
  }

  runIn(sandbox: Sandbox, code: string | Uint8Array, options: SandboxRunOptions): Promise<RunResult> {
    return this.#inFlight.track(this.#runIn(sandbox, code, options));
  }

  async #runIn(sandbox: Sandbox, code: string | Uint8Array, given: SandboxRunOptions): Promise<RunResult> {
    const started = performance.now();
    let id = newId('run');
    const { tenant, policy } = sandbox;
    try {
      const options = checkRunOptions(given);
      if (!sandbox.open || this.#closed) throw new AirlockError('SANDBOX_CLOSED', `sandbox ${sandbox.id} was destroyed: create a new one`);
      const run = this.#prepareRun(tenant, sandbox.id, policy, code, options);
      id = run.id;
      this.audit.append(run.started);
      const result = await this.#leaseOf(sandbox).run(run.started, () => this.isolate.run(run));
      this.#ended(run, result);
      await this.audit.flush();
      return result;
    } catch (error) {
      const result = failedResult(id, sandbox.tier, error, started);
      this.#ended({ tenant, sandbox: sandbox.id }, result);
      await this.audit.flush().catch(() => undefined);
      return result;
    }
  }

  /**
   * A one-shot isolate run: the sandbox exists only for it, so its registry rows are written in
   * one transaction each way, and the way out overlaps the audit's fsync. Code that does not
   * prepare takes the general path (sandbox, run, destroy), which records the refusal.
   */
  async #runOnce(tenant: string, policyDoc: PolicyDocument, code: string | Uint8Array, options: SandboxRunOptions): Promise<RunResult> {
    if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: create a new one');
    const policy = this.#compile(policyDoc, tenant);
    const sandbox = newId('sbx');
    let run: PreparedRun;
    try {
      run = this.#prepareRun(tenant, sandbox, policy, code, options);
    } catch {
      await using general = await this.sandbox({ tenant, tier: 'isolate', policy: policyDoc });
      return await general.run(code, options);
    }
    await this.#supervisor.ready();
    const started = performance.now();
    let end: () => void;
    try {
      end = this.#supervisor.admitOneShot({ id: sandbox, tenant, policy }, run.started);
    } catch (error) {
      // Refused (a quota): the decision is recorded, and so is the run that did not happen.
      const refused = failedResult(run.id, 'isolate', error, started);
      this.#ended(run, refused);
      await this.audit.flush().catch(() => undefined);
      return refused;
    }
    this.audit.append({ kind: 'sandbox.created', tenant, sandbox, tier: 'isolate', policyHash: policy.hash });
    this.audit.append(run.started);
    let result: RunResult;
    try {
      result = await this.isolate.run(run);
    } catch (error) {
      result = failedResult(run.id, 'isolate', error, started);
    }
    this.#ended(run, result);
    this.audit.append({ kind: 'sandbox.destroyed', tenant, sandbox, reason: 'destroyed by its owner' });
    const durable = this.audit.flush();
    end();
    try {
      await durable;
    } catch (error) {
      return failedResult(run.id, 'isolate', error, started);
    }
    return result;
  }

  run(request: RunRequest): Promise<RunResult> {
    return this.#inFlight.track(this.#run(request));
  }

  async #run(request: RunRequest): Promise<RunResult> {
    const started = performance.now();
    let tier: Tier = 'isolate';
    try {
      const req = parseRunRequest(request);
      tier = req.tier ?? 'isolate';
      const tenant = req.tenant ?? 'default';
      if (tier === 'container') {
        if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: create a new one');
        const policy = this.#compile(req.policy ?? DENY_ALL, tenant);
        await this.#supervisor.ready();
        const lease = this.#supervisor.admit({ id: newId('sbx'), tenant, tier, policy });
        const language = req.language ?? 'js';
        const way = this.#containerWay(tenant, lease.id, policy);
        const id = newId('run');
        const watched = watchedRun(this.audit, id);
        const run = { id, tenant, sandbox: lease.id, policy, code: req.code, language, audit: watched.sink, home: this.#home, with: way.with, closing: this.#inFlight.signal };
        const startedEvent = runStarted(run, 'container');
        try {
          // A failure before the command ran still answers under this run's id (the registry's),
          // and is in the log: the exec records its own run, a run that never reached one is recorded here.
          const result = await lease.run(startedEvent, () => runInContainer(run)).catch((error: unknown) => failedResult(id, 'container', error, started));
          if (!watched.seen.started) this.audit.append(startedEvent);
          if (!watched.seen.ended) this.#ended(run, result);
          await this.audit.flush();
          return result;
        } finally {
          lease.end();
          await way.done();
        }
      }
      return await this.#runOnce(tenant, req.policy ?? DENY_ALL, req.code, {
        ...(req.language === undefined ? {} : { language: req.language }),
        input: req.input,
        ...(req.resultSchema === undefined ? {} : { resultSchema: req.resultSchema }),
      });
    } catch (error) {
      // A refusal (a quota, say) was recorded as a decision: durable before the answer, like a run.
      await this.audit.flush().catch(() => undefined);
      return failedResult(newId('run'), tier, error, started);
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
    await Promise.all([...this.#containers].map((box) => box.destroy().catch(() => undefined)));
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
