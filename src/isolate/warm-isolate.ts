/**
 * A fresh isolate and context, built ahead of the run that will use it (and only that run), with
 * the guest bootstrap already evaluated. Pre-building moves isolate creation off the run's path;
 * an isolate is never reused: it is disposed when its one run ends.
 */
import { setFlagsFromString } from 'node:v8';
import ivm from 'isolated-vm';
import { GUEST_BOOTSTRAP, GUEST_INIT } from './guest-bootstrap.ts';
import type { CompileCache } from './compile-cache.ts';
import { GuestOutput } from './guest-output.ts';

export type ToolBridge = (name: string, argsJson: string) => Promise<string>;

/**
 * Bounds each slice of guest code run on this thread: `begin` is called as one starts and answers
 * how long it may run (elapsed ms), `end` as it ends, `onTimeout` when one ran out of that time.
 */
export interface SliceGuard {
  readonly begin: () => number;
  readonly end: () => void;
  readonly onTimeout: () => void;
}

/** isolated-vm's timeout in whole ms, at least 1. */
function sliceTimeout(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

interface Hooks {
  output: GuestOutput | null;
  bridge: ToolBridge | null;
  guard: SliceGuard | null;
}

const NO_TOOLS = JSON.stringify(['err', 'TOOL_NOT_GRANTED', 'no tools are available outside a run']);

/** The guest's synchronous stretch reached the limit runMain was given. */
export class SyncTimeout extends Error {
  constructor() {
    super('the guest ran synchronously past its limit');
    this.name = 'SyncTimeout';
  }
}

function timedOut(error: unknown): boolean {
  return error instanceof Error && /execution timed out/i.test(error.message);
}

export class WarmIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly memoryMiB: number;
  readonly #prepare: ivm.Reference;
  readonly #finish: ivm.Reference;
  readonly #wasm: ivm.Reference;
  readonly #deliver: ivm.Reference;
  readonly #hooks: Hooks = { output: null, bridge: null, guard: null };
  /** Depth of guest code running on this thread right now (a delivery then waits its turn). */
  #inGuest = 0;

  /**
   * The startup snapshot every WarmIsolate of a process starts from (make it once, before the
   * first WarmIsolate). It also turns off V8's asynchronous WebAssembly compilation for the
   * process: V8 would finish `WebAssembly.compile`/`instantiate` in a task of its own, which never
   * runs (guest code runs only in the worker's bounded slices), and the run would hang to its wall
   * limit; without it they compile inside the caller's slice, where the limits see the work. (The
   * bootstrap used to wrap both in every context instead: about 70 µs per isolate.)
   */
  static snapshot(): ivm.ExternalCopy<ArrayBuffer> {
    setFlagsFromString('--no-wasm-async-compilation');
    return ivm.Isolate.createSnapshot([{ code: GUEST_BOOTSTRAP, filename: 'airlock:bootstrap' }]);
  }

  constructor(memoryMiB: number, snapshot: ivm.ExternalCopy<ArrayBuffer>) {
    this.memoryMiB = memoryMiB;
    this.isolate = new ivm.Isolate({ memoryLimit: memoryMiB, snapshot });
    this.context = this.isolate.createContextSync();
    const hooks = this.#hooks;
    const sink = new ivm.Reference((stream: unknown, text: unknown) => hooks.output?.write(stream, text));
    // The guest tells the host of a call synchronously and gets its answer later, by deliver().
    const bridge = new ivm.Reference((name: unknown, args: unknown, id: unknown): void => {
      if (typeof id !== 'number') return;
      const ask = hooks.bridge;
      if (ask === null || typeof name !== 'string' || typeof args !== 'string') {
        setImmediate(() => this.#deliverNow(id, NO_TOOLS));
        return;
      }
      void ask(name, args).then((reply) => this.#deliverNow(id, reply));
    });
    // References are transferred as themselves (the guest holds them only in closure variables).
    // The init function is called through a Reference to it: nothing is compiled per isolate.
    const init = this.context.global.getSync(GUEST_INIT, { reference: true });
    const api = init.applySync(undefined, [sink, bridge], { result: { reference: true } }) as ivm.Reference<Record<string, unknown>>;
    init.release();
    this.#prepare = api.getSync('prepare', { reference: true });
    this.#finish = api.getSync('finish', { reference: true });
    this.#wasm = api.getSync('wasm', { reference: true });
    this.#deliver = api.getSync('deliver', { reference: true });
  }

  /**
   * Hands a host answer to the guest, on this thread: the guest's code after its await runs inside
   * this call, bounded like any slice (SliceGuard). Never nested inside guest code already running.
   */
  #deliverNow(id: number, reply: string): void {
    if (this.#inGuest > 0) {
      setImmediate(() => this.#deliverNow(id, reply));
      return;
    }
    const guard = this.#hooks.guard;
    if (guard === null || this.isolate.isDisposed) return;
    this.#inGuest++;
    let ranOut = false;
    try {
      this.#deliver.applySync(undefined, [id, reply], { timeout: sliceTimeout(guard.begin()), arguments: { copy: true } });
    } catch (error) {
      // Ran out of its slice: the run stops. Any other failure here is the isolate being disposed.
      ranOut = timedOut(error);
    } finally {
      guard.end();
      this.#inGuest--;
    }
    if (ranOut) guard.onTimeout();
  }

  /** Binds this isolate to its one run: where output goes, where tool calls go, which doors exist. */
  bind(output: GuestOutput, bridge: ToolBridge, guard: SliceGuard, grants: { readonly tools: readonly string[]; readonly network: 'granted' | 'none'; readonly delegation: 'granted' | 'none' }): void {
    this.#hooks.output = output;
    this.#hooks.bridge = bridge;
    this.#hooks.guard = guard;
    this.#prepare.applySync(undefined, [JSON.stringify(grants.tools), grants.network === 'granted', grants.delegation === 'granted']);
  }

  /**
   * Runs the guest's main function (see module-to-function.ts) and hands what it returns to the
   * guest-side finisher, which awaits it and copies the result out as JSON text.
   *
   * The guest's synchronous stretch (and the microtasks it queues) runs on this thread, bounded by
   * the guard (isolated-vm terminates it at the wall limit: SyncTimeout; the backstop at the CPU limit). So does what runs after each host answer
   * (see deliver), bounded by what is left of the limits. What V8 would finish in a task of its own
   * never runs here, so the guest is not offered it (the promise forms of WebAssembly compile in
   * the slice: snapshot(); Atomics.waitAsync is absent: guest-bootstrap.ts). The caller's wall timer, CPU
   * sampler and memory watches stay the backstop.
   */
  async runMain(code: string, options: { inputJson: string; resultCap: number; guard: SliceGuard; compiled: CompileCache; tenant: string }): Promise<unknown[]> {
    const { guard } = options;
    let pending: Promise<unknown>;
    this.#inGuest++;
    try {
      // Compiling is the run's first slice (its time is the guest's: its code's size chose it).
      const timeout = sliceTimeout(guard.begin());
      const script = options.compiled.compile(this.isolate, code, 'file:///guest.js', options.tenant);
      const main = script.runSync(this.context, { reference: true, timeout });
      guard.end();
      pending = this.#finish.applySync(undefined, [main.derefInto(), options.inputJson, options.resultCap], {
        timeout: sliceTimeout(guard.begin()),
        result: { promise: true, copy: true },
      });
    } catch (error) {
      throw timedOut(error) ? new SyncTimeout() : error;
    } finally {
      guard.end();
      this.#inGuest--;
    }
    return (await pending) as unknown[];
  }

  async runWasm(bytes: Uint8Array): Promise<unknown[]> {
    const copy = new ivm.ExternalCopy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return (await this.#wasm.apply(undefined, [copy.copyInto({ release: true })], { result: { copy: true } })) as unknown[];
  }

  dispose(): void {
    this.#hooks.output = null;
    this.#hooks.bridge = null;
    this.#hooks.guard = null;
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}
