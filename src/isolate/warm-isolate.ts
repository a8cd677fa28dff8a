/**
 * A fresh isolate and context, built ahead of the run that will use it (and only that run), with
 * the guest bootstrap already evaluated. Pre-building moves isolate creation off the run's path;
 * an isolate is never reused: it is disposed when its one run ends.
 */
import ivm from 'isolated-vm';
import { GUEST_BOOTSTRAP, GUEST_INIT } from './guest-bootstrap.ts';
import { GuestOutput } from './guest-output.ts';

export type ToolBridge = (name: string, argsJson: string) => Promise<string>;

interface Hooks {
  output: GuestOutput | null;
  bridge: ToolBridge | null;
}

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
  readonly #hooks: Hooks = { output: null, bridge: null };

  /** The startup snapshot every WarmIsolate of a process starts from (make it once). */
  static snapshot(): ivm.ExternalCopy<ArrayBuffer> {
    return ivm.Isolate.createSnapshot([{ code: GUEST_BOOTSTRAP, filename: 'airlock:bootstrap' }]);
  }

  constructor(memoryMiB: number, snapshot: ivm.ExternalCopy<ArrayBuffer>) {
    this.memoryMiB = memoryMiB;
    this.isolate = new ivm.Isolate({ memoryLimit: memoryMiB, snapshot });
    this.context = this.isolate.createContextSync();
    const hooks = this.#hooks;
    const sink = new ivm.Reference((stream: unknown, text: unknown) => hooks.output?.write(stream, text));
    const bridge = new ivm.Reference(async (name: unknown, args: unknown): Promise<string> => {
      if (hooks.bridge === null || typeof name !== 'string' || typeof args !== 'string') {
        return JSON.stringify(['err', 'TOOL_NOT_GRANTED', 'no tools are available outside a run']);
      }
      return hooks.bridge(name, args);
    });
    // References are transferred as themselves (the guest holds them only in closure variables).
    // The init function is called through a Reference to it: nothing is compiled per isolate.
    const init = this.context.global.getSync(GUEST_INIT, { reference: true });
    const api = init.applySync(undefined, [sink, bridge], { result: { reference: true } }) as ivm.Reference<Record<string, unknown>>;
    init.release();
    this.#prepare = api.getSync('prepare', { reference: true });
    this.#finish = api.getSync('finish', { reference: true });
    this.#wasm = api.getSync('wasm', { reference: true });
  }

  /** Binds this isolate to its one run: where output goes, where tool calls go, which doors exist. */
  bind(output: GuestOutput, bridge: ToolBridge, grants: { readonly tools: readonly string[]; readonly network: 'granted' | 'none' }): void {
    this.#hooks.output = output;
    this.#hooks.bridge = bridge;
    this.#prepare.applySync(undefined, [JSON.stringify(grants.tools), grants.network === 'granted']);
  }

  /**
   * Runs the guest's main function (see module-to-function.ts) and hands what it returns to the
   * guest-side finisher, which awaits it and copies the result out as JSON text.
   *
   * The guest's synchronous stretch (and the microtasks it queues) runs on this thread, bounded by
   * `syncMs` (isolated-vm terminates it: SyncTimeout); what it awaits later runs on isolated-vm's
   * threads, bounded by the caller's wall and CPU clocks.
   */
  async runMain(code: string, options: { inputJson: string; resultCap: number; syncMs: number }): Promise<unknown[]> {
    const timeout = Math.max(1, Math.ceil(options.syncMs));
    const script = this.isolate.compileScriptSync(code, { filename: 'file:///guest.js' });
    const main = script.runSync(this.context, { reference: true, timeout });
    let pending: Promise<unknown>;
    try {
      pending = this.#finish.applySync(undefined, [main.derefInto(), options.inputJson, options.resultCap], {
        timeout,
        result: { promise: true, copy: true },
      });
    } catch (error) {
      throw timedOut(error) ? new SyncTimeout() : error;
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
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}
