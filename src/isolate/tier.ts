/**
 * The isolate tier: one fresh V8 isolate per run, inside a pooled worker process that is itself
 * sandboxed and owned by one tenant, or by one trust cordon the host named (cordons.ts). This file wires the parts together for one run; each part lives in
 * its own file (prepare, pool, worker-process, tool-bridge, outcome).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { AuditSink } from '../audit/event.ts';
import { AirlockError } from '../core/errors.ts';
import type { TierResult, Usage } from '../core/result.ts';
import type { CallAuthority } from '../policy/authority.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { seccompProgram } from '../os/seccomp.ts';
import { WORKER_PROFILE } from '../os/seccomp-profiles.ts';
import { RUN_DIR, sandboxUids, UidAllocator } from '../os/uids.ts';
import { verdictOf } from './outcome.ts';
import { Cordons, type CordonMap } from './cordons.ts';
import { WorkerPool } from './pool.ts';
import type { PreparedCode } from './prepare.ts';
import { ToolBridgeHost, type CallBudget, type DelegationDoor, type FetchDoor, type ToolHandler } from './tool-bridge.ts';
import { workerView } from './worker-view.ts';
import type { RunEnd, WorkerEnv } from './worker-process.ts';

export interface IsolateTierOptions {
  /** AIRLOCK_HOME: where the compiled seccomp program is cached. */
  readonly home: string;
  readonly audit: AuditSink;
  readonly handlers: Readonly<Record<string, ToolHandler>>;
  /** The host's egress gateway, for the guest's fetch (absent: no fetch, whatever the policy says). */
  readonly egress?: FetchDoor;
  /** Workers per tenant and lane; default: the number of cores. */
  readonly workersPerTenant?: number;
  /**
   * Workers per cordon and lane; default: the number of cores, as for a tenant. More workers than
   * cores ran a cordon's runs slower on a quiet host (bench/tenants.ts: 8 workers 313–414 runs/s,
   * one tenant on 2 workers 459–525); raise it for runs that mostly wait on slow tools.
   */
  readonly workersPerCordon?: number;
  /** Worker processes of the whole tier; default: DEFAULT_MAX_WORKERS_PER_CORE per core. */
  readonly maxWorkers?: number;
  /** An idle worker is retired after this long; default DEFAULT_IDLE_MS. */
  readonly idleWorkerMs?: number;
  /** The host's trust cordons (cordons.ts); default: none, every tenant has workers of its own. */
  readonly cordons?: CordonMap;
}

/** Room for a few busy tenants per core, each with a worker: past it, idle workers of others are retired. */
export const DEFAULT_MAX_WORKERS_PER_CORE = 16;
/** A worker idle this long is retired: its next run starts a new one (a cold start of a few hundred ms). */
export const DEFAULT_IDLE_MS = 60_000;

/** What a live worker is, and whom it serves. */
export interface WorkerInfo {
  readonly id: string;
  /** Its owner's label: the tenant, or `cordon-<name>`. */
  readonly tenant: string;
  readonly cordon: string | null;
  readonly pid: number | undefined;
}

export interface IsolateRun {
  readonly id: string;
  readonly tenant: string;
  readonly sandbox: string;
  readonly policy: CompiledPolicy;
  readonly code: PreparedCode;
  readonly input: unknown;
  /** Checks the result; returns a problem to report, or null. */
  readonly checkResult: (value: unknown) => string | null;
  /** The run's warrant and labels; null: the policy alone decides. */
  readonly authority: CallAuthority | null;
  /** The guest's `subrun` and `unwrap` (absent: not granted) and the call budget its tree shares. */
  readonly delegation?: DelegationDoor | undefined;
  readonly budget?: CallBudget | undefined;
  /**
   * How deeply this run is nested in sub-runs (0: a top-level run). Each depth draws workers from
   * its own lane of the tenant's pool: a parent holds its worker while its child runs, and the
   * child never waits for a worker of its parent's lane, so no nesting can deadlock.
   */
  readonly lane?: number | undefined;
}

export class IsolateTier {
  readonly #options: IsolateTierOptions;
  readonly #pool: WorkerPool;
  readonly cordons: Cordons;
  #env: Promise<WorkerEnv> | null = null;

  constructor(options: IsolateTierOptions) {
    this.#options = options;
    this.cordons = new Cordons(options.cordons);
    this.#pool = new WorkerPool(() => this.#workerEnv(), {
      perTenant: options.workersPerTenant ?? availableParallelism(),
      perCordon: options.workersPerCordon ?? availableParallelism(),
      maxWorkers: options.maxWorkers ?? DEFAULT_MAX_WORKERS_PER_CORE * availableParallelism(),
      idleMs: options.idleWorkerMs ?? DEFAULT_IDLE_MS,
      maxStarting: availableParallelism(),
    });
  }

  /** What workers are launched with (for tests that probe the second layer). */
  workerEnv(): Promise<WorkerEnv> {
    return this.#workerEnv();
  }

  #workerEnv(): Promise<WorkerEnv> {
    this.#env ??= (async () => {
      if (process.getuid?.() !== 0) {
        throw new AirlockError('SANDBOX_UNAVAILABLE', "isolate workers get their own uid and cgroup, which needs root: run airlock as root (or in a root container)");
      }
      const { home } = this.#options;
      const seccompPath = await seccompProgram(WORKER_PROFILE, { cacheDir: join(home, 'seccomp') });
      const uids = new UidAllocator({ stateDir: join(RUN_DIR, 'uids'), ...sandboxUids() });
      return { view: workerView(), uids, seccompPath, defaultMemoryMiB: 64 };
    })();
    this.#env.catch(() => {
      this.#env = null;
    });
    return this.#env;
  }

  prewarm(tenant: string, workers?: number): Promise<void> {
    return this.#pool.prewarm(this.cordons.ownerOf(tenant), workers);
  }

  /** Live workers: those that run this tenant's runs (its own, or its cordon's), or all. */
  workers(tenant?: string): readonly WorkerInfo[] {
    const owner = tenant === undefined ? undefined : this.cordons.ownerOf(tenant);
    return this.#pool.workers(owner).map((w) => {
      const of = this.#pool.ownerOf(w);
      return { id: w.id, tenant: w.tenant, cordon: of?.kind === 'cordon' ? of.cordon : null, pid: w.pid };
    });
  }

  async run(req: IsolateRun): Promise<TierResult> {
    const started = performance.now();
    const { policy, tenant, sandbox, id } = req;
    const { handlers, audit, egress } = this.#options;
    const worker = await this.#pool.acquire(this.cordons.ownerOf(tenant), req.lane ?? 0);
    req.delegation?.begin();
    const stopRun = (): void => worker.stop(id);
    const bridge = new ToolBridgeHost({
      tenant,
      sandbox,
      run: id,
      policy,
      handlers,
      audit,
      stopRun,
      ...(egress === undefined ? {} : { egress }),
      ...(req.authority === null ? {} : { authority: req.authority }),
      ...(req.delegation === undefined ? {} : { delegation: req.delegation }),
      ...(req.budget === undefined ? {} : { budget: req.budget }),
    });
    const limits = policy.limits;
    let end: RunEnd;
    try {
      end = await worker.run(
        {
          t: 'run',
          run: id,
          tenant,
          code: req.code.code,
          kind: req.code.kind,
          input: req.input ?? null,
          tools: [...policy.tools.keys()],
          network: policy.routes.length > 0 && this.#options.egress !== undefined ? 'granted' : 'none',
          delegation: req.delegation === undefined ? 'none' : 'granted',
          limits: { wallMs: limits.wallMs, cpuMs: limits.cpuMs, memoryMiB: limits.memoryMiB, outputBytes: limits.outputBytes, resultBytes: limits.resultBytes },
        },
        (call) => bridge.call(call.name, call.args),
        { toolArgBytes: limits.toolArgBytes },
      );
    } finally {
      bridge.end();
      this.#pool.release(worker);
    }
    // A run the host stopped for a budget (calls, denials) ends so, even if its answer raced the stop.
    const stoppedFor = bridge.stoppedFor;
    if (stoppedFor !== null && end.kind === 'done') end = { kind: 'done', done: { ...end.done, outcome: { kind: 'stopped', reason: stoppedFor } } };
    const verdict = verdictOf(end, bridge.violations);
    let { status, error } = verdict;
    let result: unknown = null;
    if (verdict.json !== null) {
      result = JSON.parse(verdict.json);
      const problem = req.checkResult(result);
      if (problem !== null) {
        status = 'error';
        error = { code: 'RESULT_SCHEMA_MISMATCH', message: `the result does not match request.resultSchema: ${problem}` };
        result = null;
      }
    }
    const done = end.kind === 'done' ? end.done : null;
    const spent = end.kind === 'crashed' && typeof end.cause === 'object' ? end.cause.cpuMs : 0;
    const usage: Usage = done?.usage ?? { wallMs: performance.now() - started, cpuMs: spent, memoryBytes: 0 };
    return {
      id,
      tier: 'isolate',
      status,
      exitCode: null,
      stdout: done?.stdout ?? '',
      stderr: done?.stderr ?? '',
      result,
      error,
      usage,
      violations: bridge.violations,
    };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
