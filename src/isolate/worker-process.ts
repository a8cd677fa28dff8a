/**
 * The host's handle on one isolate worker: starts it inside its second layer (own uid, own
 * cgroup, bubblewrap, seccomp), carries run jobs and tool calls over its socket, enforces the wall
 * limit again from outside, and cleans up everything when the worker ends, however it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { AirlockError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { Cgroup, joinAndExec } from '../os/cgroup.ts';
import type { UidAllocator } from '../os/uids.ts';
import { readFrames, writeFrame } from './frames.ts';
import { workerArgv } from './launch.ts';
import { CPU_MARKER, MEMORY_MARKER, OUTPUT_MARKER } from './backstop.ts';
import { workerMessageSchema, type DoneMessage, type RunJob, type ToolReply, type WorkerMessage } from './protocol.ts';
import type { WorkerView } from './worker-view.ts';

export interface WorkerEnv {
  readonly view: WorkerView;
  readonly uids: UidAllocator;
  /** Path of the compiled seccomp program for workers. */
  readonly seccompPath: string;
  readonly defaultMemoryMiB: number;
}

export type ToolCall = Extract<WorkerMessage, { t: 'tool' }>;
export type RunEnd =
  | { readonly kind: 'done'; readonly done: DoneMessage }
  /** `cause`: the kernel's OOM killer or the memory backstop; the output backstop; the CPU backstop (with the CPU the run spent); anything else. */
  | { readonly kind: 'crashed'; readonly cause: 'memory' | 'output' | { readonly cpuMs: number } | 'other'; readonly detail: string }
  | { readonly kind: 'hung' }
  | { readonly kind: 'closed' }
  /** The host stopped the run for a budget it keeps on the worker's frames themselves. */
  | { readonly kind: 'limit'; readonly code: 'LIMIT_TOOL_ARG_BYTES'; readonly detail: string };

/** Budgets the host charges a run's frames against before it parses them. */
export interface FrameBudget {
  /** Bytes of tool-call frames (policy.limits.toolArgBytes). */
  readonly toolArgBytes: number;
}

interface Inflight {
  readonly job: RunJob;
  readonly onTool: (call: ToolCall) => Promise<Omit<ToolReply, 't' | 'run' | 'call'>>;
  readonly resolve: (end: RunEnd) => void;
  readonly timer: NodeJS.Timeout;
  readonly budget: FrameBudget;
  /** Tool-call frame bytes spent so far. */
  toolArgBytes: number;
}

/** How an honest worker's tool-call frame starts (worker-main.ts writes `t` first). */
const TOOL_FRAME_HEAD = Buffer.from('{"t":"tool",');

/** Room the worker's own node process needs besides its guests' heaps. */
const WORKER_BASE_BYTES = 192 * 1024 * 1024;
/** An attacker can exceed isolated-vm's heap limit 2–3×; the worker's cap allows for that, no more. */
const HEAP_OVERSHOOT = 3;
/** How long past its wall limit a run may take before the host kills the worker. */
const HOST_GRACE_MS = 1500;
const STARTUP_MS = 15_000;

export function workerMemoryCap(memoryMiB: number): number {
  return WORKER_BASE_BYTES + HEAP_OVERSHOOT * memoryMiB * 1024 * 1024;
}

export interface SpawnedWorker {
  readonly child: ChildProcess;
  readonly cgroup: Cgroup;
  readonly uid: number;
  readonly capBytes: number;
  release(): Promise<void>;
}

/**
 * Launches `view.entry` inside the worker's second layer, in this order: take a uid of its own;
 * make its cgroup (memory cap, pids cap); join the cgroup before exec; drop to the uid with no
 * capabilities and no_new_privs (setpriv); bubblewrap with the seccomp program on fd 4.
 */
export async function spawnWorker(tenant: string, env: WorkerEnv, view: WorkerView): Promise<SpawnedWorker> {
  const lease = await env.uids.acquire();
  const capBytes = workerMemoryCap(env.defaultMemoryMiB);
  let cgroup: Cgroup;
  try {
    cgroup = await Cgroup.create(`isolate-${tenant}-${lease.uid}-${process.pid}`, { memoryBytes: capBytes, pids: 64 });
  } catch (error) {
    await lease.release();
    throw error;
  }
  const setpriv = ['setpriv', `--reuid=${lease.uid}`, `--regid=${lease.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs'];
  // The worker's fds are 0–2, the channel (3) and the seccomp program (4); anything else is closed.
  const argv = joinAndExec(cgroup, [...setpriv, 'bwrap', ...workerArgv(view, { defaultMemoryMiB: env.defaultMemoryMiB })], [], { keepFdsBelow: 5 });
  const seccompFd = openSync(env.seccompPath, 'r');
  try {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', seccompFd], env: {} });
    return { child, cgroup, uid: lease.uid, capBytes, release: () => lease.release() };
  } finally {
    closeSync(seccompFd);
  }
}

export class WorkerProcess {
  readonly id = newId('wrk');
  readonly tenant: string;
  readonly #child: ChildProcess;
  readonly #socket: Socket;
  readonly #cgroup: Cgroup;
  readonly #release: () => Promise<void>;
  readonly #stderr: Buffer[] = [];
  #inflight: Inflight | null = null;
  #alive = true;
  #killed = false;
  /** Why the host killed the worker, when it was the host's choice and not a limit. */
  #why: string | null = null;
  /** Whether the frame being read was charged as a tool call before it was parsed. */
  #charged = false;
  #capBytes: number;
  readonly exited: Promise<void>;

  private constructor(tenant: string, child: ChildProcess, cgroup: Cgroup, release: () => Promise<void>, capBytes: number) {
    this.tenant = tenant;
    this.#child = child;
    this.#socket = child.stdio[3] as Socket;
    this.#cgroup = cgroup;
    this.#release = release;
    this.#capBytes = capBytes;
    // A worker that dies mid-write resets its socket; that is an exit, handled below, not a crash.
    this.#socket.on('error', () => this.kill());
    child.stderr?.on('data', (b: Buffer) => {
      if (this.#stderr.reduce((n, x) => n + x.length, 0) < 8192) this.#stderr.push(b);
    });
    this.exited = new Promise((resolve) => {
      const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (!this.#alive) return;
        this.#alive = false;
        void this.#ended(code, signal).finally(resolve);
      };
      child.on('exit', ended);
      // A spawn that failed outright has no process and may never emit 'exit'.
      child.on('error', () => {
        if (child.pid === undefined) ended(null, null);
      });
    });
  }

  /** Starts a worker for one tenant and resolves once it reports ready. */
  static async start(tenant: string, env: WorkerEnv): Promise<WorkerProcess> {
    const spawned = await spawnWorker(tenant, env, env.view);
    const worker = new WorkerProcess(tenant, spawned.child, spawned.cgroup, () => spawned.release(), spawned.capBytes);
    await worker.#ready();
    return worker;
  }

  /** The pid of the worker's outermost process (bubblewrap). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** False from the moment it is killed (its exit comes later): a pool never hands it out again. */
  get alive(): boolean {
    return this.#alive && !this.#killed;
  }

  get busy(): boolean {
    return this.#inflight !== null;
  }

  #ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(new AirlockError('SANDBOX_UNAVAILABLE', `the isolate worker did not start within ${STARTUP_MS} ms: ${this.stderrTail()}`));
      }, STARTUP_MS);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new AirlockError('SANDBOX_UNAVAILABLE', `the isolate worker exited during start-up: ${this.stderrTail() || 'no output'}`));
      });
      readFrames(this.#socket, {
        // A worker's largest honest frame: result and output at their ceilings, JSON-escaped.
        maxBytes: 256 * 1024 * 1024,
        onError: (error) => this.#hostKill(`the host stopped reading this worker: ${error.message}`),
        admit: (size, head) => this.#admit(size, head),
        onFrame: (raw) => {
          // Frames already read behind one that got the worker killed are not acted on.
          if (!this.alive) return;
          const parsed = workerMessageSchema.safeParse(raw);
          if (!parsed.success) {
            this.#hostKill('the worker sent a message that is not in the protocol');
            return;
          }
          if (parsed.data.t === 'tool' && !this.#charged) {
            this.#hostKill('the worker sent a tool call framed unlike its own, so its bytes were not charged');
            return;
          }
          if (parsed.data.t === 'ready') {
            clearTimeout(timer);
            resolve();
          } else this.#onMessage(parsed.data);
        },
      });
    });
  }

  stderrTail(): string {
    return Buffer.concat(this.#stderr).toString('utf8').slice(-2000).trim();
  }

  /** Sends one run; resolves when it is done, the worker died, or the host's deadline passed. */
  async run(job: RunJob, onTool: Inflight['onTool'], budget: FrameBudget): Promise<RunEnd> {
    if (!this.alive) throw new AirlockError('WORKER_CRASHED', 'the isolate worker is gone');
    if (this.#inflight !== null) throw new AirlockError('INTERNAL', 'an isolate worker runs one job at a time');
    const cap = workerMemoryCap(job.limits.memoryMiB);
    if (cap > this.#capBytes) {
      await this.#cgroup.setMemoryLimit(cap);
      this.#capBytes = cap;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#finish({ kind: 'hung' });
        this.kill();
      }, job.limits.wallMs + HOST_GRACE_MS);
      this.#inflight = { job, onTool, resolve, timer, budget, toolArgBytes: 0 };
      try {
        writeFrame(this.#socket, job);
      } catch (error) {
        // Nothing was sent: the worker stays free for the next job.
        clearTimeout(timer);
        this.#inflight = null;
        throw error;
      }
    });
  }

  /** Asks the worker to end this run (it called past its limit); the host's deadline still stands. */
  stop(run: string): void {
    if (this.#inflight?.job.run === run && this.alive) writeFrame(this.#socket, { t: 'stop', run });
  }

  /**
   * Charges a tool-call frame to its run before the host reads it whole or parses it: a run over
   * its byte budget is stopped (LIMIT_TOOL_ARG_BYTES) and its worker killed, since the rest of
   * that frame is never read. Parsing is then bounded per run, whatever the guest sends.
   */
  #admit(size: number, head: Buffer): boolean {
    this.#charged = head.length >= TOOL_FRAME_HEAD.length && head.subarray(0, TOOL_FRAME_HEAD.length).equals(TOOL_FRAME_HEAD);
    const inflight = this.#inflight;
    if (!this.#charged || inflight === null) return true;
    const spent = inflight.toolArgBytes + size;
    if (spent <= inflight.budget.toolArgBytes) {
      inflight.toolArgBytes = spent;
      return true;
    }
    const limit = inflight.budget.toolArgBytes;
    this.#finish({ kind: 'limit', code: 'LIMIT_TOOL_ARG_BYTES', detail: `the run sent the host ${spent} bytes of tool calls, over its limit of ${limit} (limits.toolArgBytes); the call that went over was not read` });
    this.#hostKill('the run went over its tool-argument byte budget');
    return false;
  }

  #finish(end: RunEnd): void {
    const inflight = this.#inflight;
    if (inflight === null) return;
    clearTimeout(inflight.timer);
    this.#inflight = null;
    inflight.resolve(end);
  }

  #onMessage(message: WorkerMessage): void {
    const inflight = this.#inflight;
    if (message.t === 'ready') return;
    // A worker speaks only for the run the host gave it, and an honest one never for another (it
    // sends a run's frames before that run's 'done'). One that names another run is compromised:
    // in a cordon that run may be a cordon-mate's, with its tools and authority. Refused, and the
    // worker killed, so nothing it sends afterwards is read either.
    if (inflight === null || message.run !== inflight.job.run) {
      this.#hostKill(`the worker sent a "${message.t}" frame for a run it does not hold`);
      return;
    }
    if (message.t === 'done') {
      this.#finish({ kind: 'done', done: message });
      return;
    }
    // Whatever the host's side of a call does, the guest gets an answer and the host no unhandled
    // rejection (which ends a Node process): an unexpected failure is a failed call.
    const failed = (): Awaited<ReturnType<Inflight['onTool']>> => ({ ok: false, code: 'INTERNAL', message: `the host failed while answering "${message.name}"` });
    void inflight
      .onTool(message)
      .catch(failed)
      .then((reply) => {
        if (this.#inflight === inflight && this.#alive) writeFrame(this.#socket, { ...reply, t: 'tool-reply', run: message.run, call: message.call });
      })
      .catch((error: unknown) => this.#hostKill(`the host failed while replying to "${message.name}": ${String(error).slice(0, 300)}`));
  }

  async #ended(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const stats = await this.#cgroup.stats().catch(() => null);
    // The host's own reason for killing it (#why), or: the kernel's OOM killer, or the worker's backstop (backstop.ts).
    const detail = this.#why ?? `worker exited (${signal ?? `code ${code}`}) ${this.stderrTail()}`.trim();
    this.#finish({ kind: 'crashed', cause: this.#why === null ? crashCause(stats?.oomKills ?? 0, this.stderrTail()) : 'other', detail });
    await this.#cgroup.killAll().catch(() => undefined);
    await this.#cgroup.destroy().catch(() => undefined);
    await this.#release();
  }

  /**
   * The host can't go on with this worker (its frames broke the host's handling of them): kill it,
   * keeping why, so its run ends WORKER_CRASHED saying so. Other workers are untouched.
   */
  #hostKill(why: string): void {
    this.#why ??= why;
    this.kill();
  }

  /** Kills the worker and everything in its cgroup; cleanup follows on exit. */
  kill(): void {
    if (!this.#alive) return;
    this.#killed = true;
    this.#child.kill('SIGKILL');
    void this.#cgroup.killAll().catch(() => undefined);
  }

  /** Ends the worker and waits until its cgroup, uid and process are gone; a run in flight ends 'closed'. */
  async close(): Promise<void> {
    this.#finish({ kind: 'closed' });
    this.kill();
    await this.exited;
  }
}

/** Why a worker died: the kernel's OOM killer or the backstop's memory limit, its output or CPU limit (backstop.ts), or something else. */
function crashCause(oomKills: number, stderr: string): 'memory' | 'output' | { readonly cpuMs: number } | 'other' {
  if (oomKills > 0 || stderr.includes(MEMORY_MARKER)) return 'memory';
  if (stderr.includes(OUTPUT_MARKER)) return 'output';
  const cpu = new RegExp(`${CPU_MARKER} cpu=(\\d+(?:\\.\\d+)?)`).exec(stderr);
  return cpu?.[1] === undefined ? 'other' : { cpuMs: Number(cpu[1]) };
}
