/**
 * A container session: one tenant's sandbox, kept between execs. The workspace persists; every exec
 * is a fresh set of namespaces over it, and nothing the command started outlives the exec. File
 * operations and execs are serialised, so no guest code runs while the host touches the
 * workspace (a standby's waiter, blocked on its pipe, runs none). destroy() leaves nothing: no
 * process, mount, cgroup, uid in use or file.
 */
import { createHash } from 'node:crypto';
import type { AuditSink } from '../audit/event.ts';
import { AirlockError, codeInfo, toAirlockError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Cgroup } from '../os/cgroup.ts';
import type { UidLease } from '../os/uids.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { decide } from '../policy/decide.ts';
import { WORKSPACE } from './mounts.ts';
import type { Driver } from './drivers/driver.ts';
import { checkExecOptions } from './exec-options.ts';
import { checkExecSize } from './exec-size.ts';
import { launch, RUN_ID, type ExecOptions, type ExecResult, type Launched } from './launch.ts';
import { teardownParts } from './parts.ts';
import { compileSpec, type SpecInputs } from './spec.ts';
import type { Spawner } from './spawner.ts';
import type { Standby } from './standby.ts';
import type { FileEntry, Workspace } from './workspace.ts';

export interface ContainerSandbox extends AsyncDisposable {
  readonly id: string;
  readonly tenant: string;
  /** Runs argv in the workspace; stdout/stderr are streamed to the callbacks and captured. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  listFiles(path?: string): Promise<FileEntry[]>;
  destroy(): Promise<void>;
}

export interface SessionParts {
  readonly tenant: string;
  readonly id: string;
  readonly policy: CompiledPolicy;
  readonly audit: AuditSink;
  readonly driver: Driver;
  readonly lease: UidLease;
  readonly cgroup: Cgroup;
  readonly workspace: Workspace;
  readonly sandboxDir: string;
  readonly caBundle: string | null;
  readonly inputs: SpecInputs;
  /** A sandbox launched ahead for `inputs` and the policy: it runs the first exec. */
  readonly standby?: Standby;
  /** Starts the driver's processes (default: node's spawn). */
  readonly spawner?: Spawner;
  /** Called once everything is removed (the pool that made the parts refills then). */
  readonly destroyed?: () => void;
  /** Aborted with a coded AirlockError when the host stops what this sandbox runs (its egress's denial budget). */
  readonly stop?: AbortSignal;
}

function checkArgv(argv: readonly string[]): void {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw new AirlockError('INVALID_REQUEST', 'exec needs argv: a non-empty array of strings without NUL bytes, e.g. ["python3", "main.py"]');
  }
}

export class Session implements ContainerSandbox {
  readonly id: string;
  readonly tenant: string;
  readonly #parts: SessionParts;
  #queue: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | null = null;
  #standby: Standby | undefined;
  /** Aborted when destroy begins: an exec in flight is stopped and still ends with its run.ended. */
  readonly #destroying = new AbortController();

  constructor(parts: SessionParts) {
    this.#parts = parts;
    this.#standby = parts.standby;
    this.id = parts.id;
    this.tenant = parts.tenant;
  }

  /** Runs one operation after the previous one, refusing once destroy() has begun. */
  #serial<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed !== null) return Promise.reject(new AirlockError('SANDBOX_CLOSED', `sandbox ${this.id} was destroyed: create a new one`));
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #decideFile(path: string, allow: boolean, reason: string): void {
    this.#parts.audit.append({ kind: 'decision', tenant: this.tenant, sandbox: this.id, door: 'file', subject: path, allow, reason });
  }

  /** Bad argv or options, or argv and env too large to exec, reject (INVALID_REQUEST) before anything runs or is recorded. */
  async exec(argv: readonly string[], given?: ExecOptions): Promise<ExecResult> {
    checkArgv(argv);
    const options = checkExecOptions(given);
    const spec = compileSpec(this.#parts.policy, this.#parts.inputs, argv);
    checkExecSize(spec.process.args, spec.process.env);
    return this.#serial(async () => {
      const p = this.#parts;
      const run = options[RUN_ID] ?? newId('run');
      const code = JSON.stringify(argv);
      p.audit.append({
        kind: 'run.started', tenant: this.tenant, sandbox: this.id, run, tier: 'container',
        codeHash: createHash('sha256').update(code).digest('hex'), code, language: 'argv', policyHash: p.policy.hash, policy: p.policy.document,
      });
      let result: Launched;
      try {
        // The standby serves one exec at most; later execs launch afresh.
        const standby = this.#standby;
        this.#standby = undefined;
        // Stopped already (its denial budget is spent): refused before anything launches.
        p.stop?.throwIfAborted();
        const signal = p.stop === undefined ? this.#destroying.signal : AbortSignal.any([this.#destroying.signal, p.stop]);
        result = await launch(spec, p.driver, p.cgroup, run, options, { standby, spawner: p.spawner, signal });
      } catch (error) {
        // A run that started is always recorded as ended, whatever stopped the launch.
        const coded = this.#destroying.signal.aborted ? new AirlockError('STOPPED_BY_HOST', 'the sandbox was destroyed before the command could start: run it again in a new sandbox') : toAirlockError(error, 'INTERNAL');
        p.audit.append({ kind: 'run.ended', tenant: this.tenant, sandbox: this.id, run, status: codeInfo(coded.code).status, errorCode: coded.code, usage: { wallMs: 0, cpuMs: 0, memoryBytes: 0 } });
        await p.audit.flush();
        throw coded;
      }
      if (result.error !== null && result.status !== 'error') {
        p.audit.append({ kind: 'decision', tenant: this.tenant, sandbox: this.id, run, door: 'limit', subject: result.error.code, allow: false, reason: result.error.message });
      }
      p.audit.append({ kind: 'run.ended', tenant: this.tenant, sandbox: this.id, run, status: result.status, errorCode: result.error?.code ?? null, usage: result.usage });
      await p.audit.flush();
      return { runId: run, ...result };
    });
  }

  async #file<T>(path: string, op: () => Promise<T>): Promise<T> {
    try {
      const door = decide(this.#parts.policy, { door: 'file', path, root: WORKSPACE });
      if (!door.allow) throw new AirlockError(door.code, door.message);
      const value = await op();
      this.#decideFile(path, true, 'WORKSPACE_PATH');
      return value;
    } catch (error) {
      // Every refusal or failure is a decision on the record, coded (the workspace codes its own).
      const coded = toAirlockError(error, 'INTERNAL');
      this.#decideFile(path, false, coded.code);
      throw coded;
    }
  }

  writeFile(path: string, data: string | Uint8Array): Promise<void> {
    return this.#serial(() => this.#file(path, () => this.#parts.workspace.writeFile(path, data, this.#parts.policy.limits.fileBytes)));
  }

  readFile(path: string): Promise<Buffer> {
    return this.#serial(() => this.#file(path, () => this.#parts.workspace.readFile(path, this.#parts.policy.limits.fileBytes)));
  }

  listFiles(path?: string): Promise<FileEntry[]> {
    return this.#serial(() => this.#parts.workspace.listFiles(path));
  }

  /** Kills whatever runs, then removes the workspace, the cgroup and the uid lease. Idempotent. */
  destroy(): Promise<void> {
    this.#closed ??= this.#teardown();
    return this.#closed;
  }

  async #teardown(): Promise<void> {
    const p = this.#parts;
    // An unused standby ends by itself (no zombie); a running exec is stopped at once, and its
    // own cleanup then finds an empty cgroup.
    const standby = this.#standby;
    this.#standby = undefined;
    this.#destroying.abort();
    await standby?.discard();
    await p.cgroup.killAll().catch(() => undefined);
    await this.#queue;
    try {
      await teardownParts(p);
    } finally {
      p.destroyed?.();
    }
    p.audit.append({ kind: 'sandbox.destroyed', tenant: this.tenant, sandbox: this.id, reason: 'destroy' });
    await p.audit.flush();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }
}
