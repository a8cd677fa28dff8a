/**
 * A container sandbox as the runtime hands it out: every exec is a run (the lease charges the
 * tenant's quota, records it in flight, holds off the idle clock), recorded by the runtime itself
 * with run.started (the argv and the files written since the previous exec, by hash) and
 * run.ended; file operations are activity; destroy ends the lease and is recorded. It wraps the
 * container tier's sandbox (made by container-run-tier.ts) and changes nothing on it.
 */
import type { AuditSink } from '../audit/event.ts';
import type { ContainerSandbox, ExecOptions, ExecResult, FileEntry } from '../container/index.ts';
import { checkExecOptions } from '../container/exec-options.ts';
import { RUN_ID } from '../container/launch.ts';
import { AirlockError, codeInfo, toAirlockError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { SANDBOX_TIER } from './failed-result.ts';
import { DESTROYED_BY_OWNER, execCode, runEnded, runStarted, sha256, type RunStarted } from './run-events.ts';
import type { SandboxLease } from './supervisor.ts';

function checkArgv(argv: readonly string[]): void {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw new AirlockError('INVALID_REQUEST', 'exec needs argv: a non-empty array of strings without NUL bytes, e.g. ["python3", "main.py"]');
  }
}

/**
 * One exec of the container tier's own sandbox `box`, recorded as the run `started` describes:
 * run.started, then run.ended however it ends, durable before it answers; a throw becomes its
 * coded error.
 */
async function recordedExec(audit: AuditSink, box: ContainerSandbox, started: RunStarted, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const id = started.run ?? newId('run');
  const where = { tenant: started.tenant, sandbox: started.sandbox };
  audit.append(started);
  let result: ExecResult;
  try {
    result = await box.exec(argv, { ...options, [RUN_ID]: id });
  } catch (error) {
    const coded = toAirlockError(error);
    audit.append(runEnded(where, { id, status: codeInfo(coded.code).status, error: coded, usage: { wallMs: 0, cpuMs: 0, memoryBytes: 0 } }));
    await audit.flush();
    throw coded;
  }
  audit.append(runEnded(where, { id, status: result.status, error: result.error, usage: result.usage, stdout: result.stdout, stderr: result.stderr }));
  await audit.flush();
  return result;
}

export interface ManagedContainerInit {
  readonly box: ContainerSandbox;
  readonly lease: SandboxLease;
  readonly policy: CompiledPolicy;
  /** The host's log (the runtime's lifecycle events go here). */
  readonly audit: AuditSink;
  /** close() waits for what this tracks. */
  readonly track: <T>(work: Promise<T>) => Promise<T>;
  /** Destroys the tier's sandbox and releases what went with it (its egress socket). */
  readonly remove: () => Promise<void>;
}

/**
 * @example
 *   const managed = ManagedContainer.created({ box, lease, policy, audit, track, remove });
 *   await managed.writeFile('main.py', code);
 *   const r = await managed.exec(['python3', 'main.py']);   // run.started holds argv + main.py's hash
 */
export class ManagedContainer implements ContainerSandbox {
  readonly id: string;
  readonly tenant: string;
  readonly #init: ManagedContainerInit;
  /** Files written since the previous exec: path → SHA-256 of what was written. */
  readonly #written = new Map<string, string>();
  #gone: Promise<void> | null = null;

  private constructor(init: ManagedContainerInit) {
    this.#init = init;
    this.id = init.box.id;
    this.tenant = init.box.tenant;
  }

  /** Wraps a sandbox the container tier just made, and records it as created. */
  static created(init: ManagedContainerInit): ManagedContainer {
    init.audit.append({ kind: 'sandbox.created', tenant: init.box.tenant, sandbox: init.box.id, tier: 'container', policyHash: init.policy.hash });
    return new ManagedContainer(init);
  }

  exec(argv: readonly string[], given?: ExecOptions): Promise<ExecResult> {
    return this.#init.track(this.#exec(argv, given));
  }

  async #exec(argv: readonly string[], given?: ExecOptions): Promise<ExecResult> {
    // Checked before anything is charged or recorded, as the tier itself would.
    checkArgv(argv);
    const options = checkExecOptions(given);
    const id = newId('run');
    const started = runStarted({ id, tenant: this.tenant, sandbox: this.id, policy: this.#init.policy, code: execCode(argv, this.#written), language: 'argv' }, 'container', SANDBOX_TIER);
    this.#written.clear();
    return this.#init.lease.run(started, () => recordedExec(this.#init.audit, this.#init.box, started, argv, options));
  }

  async writeFile(path: string, data: string | Uint8Array): Promise<void> {
    await this.#init.lease.busy(() => this.#init.box.writeFile(path, data));
    this.#written.set(path, sha256(data));
  }

  readFile(path: string): Promise<Buffer> {
    return this.#init.lease.busy(() => this.#init.box.readFile(path));
  }

  listFiles(path?: string): Promise<FileEntry[]> {
    return this.#init.lease.busy(() => this.#init.box.listFiles(path));
  }

  /** Kills whatever runs, removes the sandbox, then records it and ends the lease. Idempotent. */
  destroy(): Promise<void> {
    this.#gone ??= (async () => {
      try {
        // Its egress socket is closed too, so every egress decision of its runs is logged before it ends.
        await this.#init.remove();
      } finally {
        this.#init.audit.append({ kind: 'sandbox.destroyed', tenant: this.tenant, sandbox: this.id, reason: DESTROYED_BY_OWNER });
        this.#init.lease.end();
        await this.#init.audit.flush();
      }
    })();
    return this.#gone;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }
}
