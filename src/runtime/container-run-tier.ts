/**
 * The container tier behind the runtime's tier interface: a one-shot run writes its code into a
 * fresh sandbox's workspace and runs it there; `create` also serves the runtime's long-lived
 * container sandboxes (managed-container.ts). A sandbox needing no egress comes from the pool
 * (made ahead); one with routes gets a gateway socket private to its uid and a forwarder inside.
 */
import type { AuditEventBody, AuditSink } from '../audit/event.ts';
import type { ContainerPool, ContainerSandbox, ContainerSandboxOptions } from '../container/index.ts';
import { AirlockError } from '../core/errors.ts';
import type { TierResult, Violation } from '../core/result.ts';
import type { EgressGateway } from '../egress/gateway.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { Language } from '../policy/request.ts';
import type { DenialTap, DenialWatch } from './denials.ts';
import { runStarted, type RunStarted } from './run-events.ts';
import type { RunInput, RunTier, SandboxOf } from './tier.ts';

export interface ContainerEntry {
  readonly file: string;
  readonly argv: readonly string[];
}

const ENTRY: Partial<Record<Language, ContainerEntry>> = {
  python: { file: 'main.py', argv: ['python3', 'main.py'] },
  sh: { file: 'main.sh', argv: ['sh', 'main.sh'] },
  js: { file: 'main.mjs', argv: ['node', 'main.mjs'] },
};

export interface PreparedContainerRun {
  readonly started: RunStarted;
  readonly entry: ContainerEntry;
  readonly code: string | Uint8Array;
  readonly policy: CompiledPolicy;
}

/** A sandbox of this tier as the runtime holds it: the tier's own object, and what goes with it. */
export interface ContainerBox {
  readonly sandbox: ContainerSandbox;
  /** Closes its egress socket (every egress decision of it is then in the log) and releases its gateway state. */
  readonly release: () => Promise<void>;
  readonly denials: DenialWatch;
}

export interface ContainerRunTierOptions {
  readonly home: string;
  /** The egress gateway, made when the first sandbox with routes asks for it. */
  readonly gateway: () => Promise<EgressGateway>;
  /** What the gateway and the tier record decisions through; a sandbox's denials are read from it. */
  readonly tap: DenialTap;
  /** Aborted when airlock closes: nothing starts after it. */
  readonly closing: AbortSignal;
}

/** The container tier's own modules, loaded with its first sandbox: an isolate-only host never loads them. */
async function containerModules(): Promise<{ readonly container: typeof import('../container/index.ts'); readonly launch: typeof import('../container/launch.ts'); readonly forwarder: typeof import('../egress/forwarder.ts') }> {
  const [container, launch, forwarder] = await Promise.all([import('../container/index.ts'), import('../container/launch.ts'), import('../egress/forwarder.ts')]);
  return { container, launch, forwarder };
}

const STOPPED = 'airlock was closed before the command ran: run it again';

const RUNTIME_WRITES: ReadonlySet<AuditEventBody['kind']> = new Set(['sandbox.created', 'run.started', 'run.ended', 'sandbox.destroyed']);

/**
 * The sink the container tier writes through under the runtime. The tier records its own
 * lifecycle events when it is used on its own (its tests, the check probes); here its decisions
 * pass and its lifecycle events are left out, because the runtime writes those for every tier.
 */
function tierSink(inner: AuditSink): AuditSink {
  return {
    append: (event) => {
      if (!RUNTIME_WRITES.has(event.kind)) inner.append(event);
    },
    flush: () => inner.flush(),
    close: () => Promise.resolve(),
  };
}

export class ContainerRunTier implements RunTier<PreparedContainerRun, ContainerBox> {
  readonly name = 'container';
  readonly #options: ContainerRunTierOptions;
  /** Sandboxes made and not yet destroyed: close() destroys them. */
  readonly #live = new Set<ContainerBox>();
  #pool: ContainerPool | null = null;
  #modules: ReturnType<typeof containerModules> | null = null;

  constructor(options: ContainerRunTierOptions) {
    this.#options = options;
  }

  /** The language's entry file and command, and the code's size; throws UNSUPPORTED_LANGUAGE or CODE_TOO_LARGE. */
  prepare(run: RunInput): PreparedContainerRun {
    const entry = ENTRY[run.language];
    if (entry === undefined) {
      throw new AirlockError('UNSUPPORTED_LANGUAGE', `${run.language} does not run on the container tier: use python, sh or js there (ts and wasm run on the isolate tier)`);
    }
    const bytes = typeof run.code === 'string' ? Buffer.byteLength(run.code) : run.code.byteLength;
    if (bytes > run.policy.limits.codeBytes) {
      throw new AirlockError('CODE_TOO_LARGE', `the code is ${bytes} bytes, over the limit of ${run.policy.limits.codeBytes}: send less, or raise policy.limits.codeBytes`);
    }
    return { started: runStarted(run, 'container', run.tierReason), entry, code: run.code, policy: run.policy };
  }

  /** How a sandbox is made: from the pool when it needs no egress; otherwise with its own socket. */
  async #way(of: SandboxOf): Promise<{ readonly with: Pick<ContainerSandboxOptions, 'pool' | 'egress'>; readonly done: () => Promise<void> }> {
    const { container, forwarder } = await this.#loaded();
    this.#pool ??= new container.ContainerPool({ home: this.#options.home });
    const pool = this.#pool;
    if (of.policy.routes.length === 0) return { with: { pool }, done: () => Promise.resolve() };
    const held: { close?: () => Promise<void>; gateway?: EgressGateway } = {};
    const egress: ContainerSandboxOptions['egress'] = async (owner) => {
      const gateway = await this.#options.gateway();
      held.gateway = gateway;
      const socket = await gateway.socketFor({ tenant: of.tenant, sandbox: of.sandbox, policy: of.policy, authority: of.authority ?? undefined }, { owner: { uid: owner.uid, gid: owner.gid } });
      held.close = () => socket.close();
      const plan = forwarder.forwarderPlan({ socketPath: socket.path });
      return { binds: plan.binds, env: plan.env, sidecar: plan.sidecarArgv, argvPrefix: plan.waitArgv, stop: socket.stop };
    };
    // Made outside the pool (its egress is its own), but started through the pool's process helper.
    return {
      with: { egress, pool },
      done: async () => {
        await held.close?.();
        held.gateway?.release({ tenant: of.tenant, sandbox: of.sandbox });
      },
    };
  }

  #loaded(): ReturnType<typeof containerModules> {
    this.#modules ??= containerModules();
    return this.#modules;
  }

  async create(of: SandboxOf): Promise<ContainerBox> {
    const way = await this.#way(of);
    const { container } = await this.#loaded();
    let sandbox: ContainerSandbox;
    try {
      sandbox = await container.createContainerSandbox({ tenant: of.tenant, sandboxId: of.sandbox, policy: of.policy, audit: tierSink(this.#options.tap), home: this.#options.home, ...way.with });
    } catch (error) {
      await way.done();
      throw error;
    }
    const box: ContainerBox = { sandbox, release: way.done, denials: this.#options.tap.watch(of.sandbox) };
    this.#live.add(box);
    return box;
  }

  async run(box: ContainerBox, prepared: PreparedContainerRun): Promise<TierResult> {
    // A method, not a field read: it changes across awaits.
    const stopping = (): boolean => this.#options.closing.aborted;
    const id = prepared.started.run ?? '';
    const { entry, policy } = prepared;
    // Closed before or while the sandbox was made: nothing may start now.
    if (stopping()) throw new AirlockError('STOPPED_BY_HOST', STOPPED);
    try {
      await box.sandbox.writeFile(entry.file, prepared.code);
    } catch (error) {
      // A write that failed once airlock was closing (the sandbox destroyed under it) failed for that.
      throw stopping() ? new AirlockError('STOPPED_BY_HOST', STOPPED) : error;
    }
    const { launch } = await this.#loaded();
    const r = await box.sandbox.exec(entry.argv, { timeoutMs: policy.limits.wallMs, [launch.RUN_ID]: id });
    return { id, tier: 'container', status: r.status, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, result: null, error: r.error, usage: r.usage, violations: [] };
  }

  /** Kills what runs and removes everything; then its egress decisions are all in and its denials are read. */
  async destroy(box: ContainerBox): Promise<readonly Violation[]> {
    try {
      await box.sandbox.destroy();
    } finally {
      this.#live.delete(box);
      await box.release();
    }
    return box.denials.stop();
  }

  /** Destroys every sandbox still live (airlock is closing): the runs in them end STOPPED_BY_HOST. */
  async destroyAll(): Promise<void> {
    await Promise.all([...this.#live].map((box) => this.destroy(box).catch(() => undefined)));
  }

  /** Closes the pool, once nothing runs any more. */
  async close(): Promise<void> {
    await this.#pool?.close();
  }
}
