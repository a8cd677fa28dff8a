/**
 * The isolate worker: the process that runs inside bubblewrap and seccomp, and holds the isolates.
 * It talks to the host over fd 3 (a socket the host created). It holds no secrets and no tool
 * handlers: a tool call is forwarded to the host, which decides and runs the handler.
 *
 * Imports here are kept to what the sandbox binds: isolated-vm and this folder's own files
 * (types from protocol.ts are erased, so zod is not loaded).
 */
import { Socket } from 'node:net';
import { readFrames, writeFrame } from './frames.ts';
import { startBackstop } from './backstop.ts';
import { CompileCache } from './compile-cache.ts';
import { readFd, replySpin, type ReplySpin } from './reply-spin.ts';
import { packText } from './packed-text.ts';
import type { HostToWorker, RunJob, ToolReply } from './protocol.ts';
import { WarmIsolate } from './warm-isolate.ts';
import { runInIsolate, type RunControl } from './worker-run.ts';

/** Isolates kept ready per heap size; enough for back-to-back runs while the next is built. */
const SPARES = 2;
/** How long the worker reads for a tool's answer before it sleeps (reply-spin.ts). */
const SPIN_NS = 300_000n;
/** A run may spin a tenth of its cpuMs in all (the spin is charged to it): ns of spin per ms of the limit. */
const SPIN_SHARE_OF_CPU_NS_PER_MS = 100_000n;

class IsolateWorker {
  readonly #socket: Socket;
  readonly #snapshot = WarmIsolate.snapshot();
  readonly #spares = new Map<number, WarmIsolate[]>();
  readonly #pending = new Map<number, (reply: string) => void>();
  #spin: ReplySpin | null = null;
  readonly #queue: RunJob[] = [];
  #busy = false;
  #current: string | null = null;
  readonly #control: RunControl = { stop: null, backstop: startBackstop(), compiled: new CompileCache() };
  #calls = 0;

  constructor(socket: Socket, defaultMemoryMiB: number) {
    this.#socket = socket;
    this.#refill(defaultMemoryMiB);
  }

  /** Set once the frame reader exists: tool calls then wait for their answer by reading (reply-spin.ts). */
  spinWith(spin: ReplySpin): void {
    this.#spin = spin;
  }

  onMessage(message: HostToWorker): void {
    if (message.t === 'run') {
      this.#queue.push(message);
      this.#next();
    } else if (message.t === 'stop') {
      // Deferred like every stop (never dispose the isolate from inside a callback of its guest),
      // and checked again then: by that time the next run may hold the control.
      setImmediate(() => {
        if (message.run === this.#current) this.#control.stop?.('calls');
      });
    } else {
      this.#reply(message);
    }
  }

  #reply(message: ToolReply): void {
    const resolve = this.#pending.get(message.call);
    if (resolve === undefined) return;
    this.#pending.delete(message.call);
    resolve(JSON.stringify(message.ok ? ['ok', message.json ?? null] : ['err', message.code ?? 'TOOL_FAILED', message.message ?? 'tool failed']));
  }

  #next(): void {
    if (this.#busy) return;
    const job = this.#queue.shift();
    if (job === undefined) return;
    this.#busy = true;
    this.#spin?.startRun(BigInt(job.limits.cpuMs) * SPIN_SHARE_OF_CPU_NS_PER_MS);
    const warm = this.#take(job.limits.memoryMiB);
    const bridge = (name: string, args: string): Promise<string> =>
      new Promise((resolve) => {
        const call = ++this.#calls;
        this.#pending.set(call, resolve);
        writeFrame(this.#socket, { t: 'tool', run: job.run, call, name, args });
        this.#spin?.wait(() => !this.#pending.has(call));
      });
    this.#current = job.run;
    void runInIsolate(warm, job, bridge, this.#control).then((done) => {
      this.#current = null;
      const { outcome } = done;
      writeFrame(this.#socket, {
        ...done,
        stdout: packText(done.stdout),
        stderr: packText(done.stderr),
        outcome: outcome.kind === 'ok' && outcome.json !== null ? { ...outcome, json: packText(outcome.json) } : outcome,
      });
      warm.dispose();
      this.#pending.clear();
      this.#busy = false;
      this.#next();
      setImmediate(() => this.#refill(job.limits.memoryMiB));
    });
  }

  #take(memoryMiB: number): WarmIsolate {
    const spare = this.#spares.get(memoryMiB)?.shift();
    return spare ?? new WarmIsolate(memoryMiB, this.#snapshot);
  }

  #refill(memoryMiB: number): void {
    const list = this.#spares.get(memoryMiB) ?? [];
    this.#spares.set(memoryMiB, list);
    while (list.length < SPARES && !this.#busy) list.push(new WarmIsolate(memoryMiB, this.#snapshot));
  }
}

function main(): void {
  const socket = new Socket({ fd: 3, readable: true, writable: true });
  const worker = new IsolateWorker(socket, Number(process.argv[2] ?? '64'));
  const push = readFrames(socket, {
    maxBytes: 256 * 1024 * 1024,
    onFrame: (value) => worker.onMessage(value as HostToWorker),
    onError: () => process.exit(70),
  });
  worker.spinWith(replySpin(readFd(3), push, SPIN_NS));
  // The host closing the socket means the host is gone or done with us.
  socket.on('close', () => process.exit(0));
  writeFrame(socket, { t: 'ready', pid: process.pid });
}

main();
