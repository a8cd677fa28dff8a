/**
 * One run inside the worker: bind a warm isolate, enforce wall, CPU, memory and output limits from
 * inside the worker, and turn whatever happened into one `done` message. The host enforces the
 * wall limit again from outside (it kills the worker) in case this process stops answering.
 */
import type { DoneMessage, Outcome, RunJob } from './protocol.ts';
import { GuestOutput } from './guest-output.ts';
import type { Backstop } from './backstop.ts';
import type { CompileCache } from './compile-cache.ts';
import { SyncTimeout, type SliceGuard, type ToolBridge, type WarmIsolate } from './warm-isolate.ts';

type Stop = 'wall' | 'cpu' | 'memory' | 'output' | 'calls';

/** Filled in by runInIsolate: how the worker ends this run when the host asks it to. */
export interface RunControl {
  stop: ((why: 'calls') => void) | null;
  /** The backstop for memory and CPU taken inside one synchronous slice (backstop.ts). */
  readonly backstop: Backstop;
  /** The worker's code cache (compile-cache.ts). */
  readonly compiled: CompileCache;
}

/** This thread's own CPU clock, in ns. */
function threadCpuNs(): bigint {
  const u = process.threadCpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

/** How often the CPU clock and the process's memory are sampled; limits hold to within about this. */
const CPU_SAMPLE_MS = 5;

/**
 * Memory isolated-vm's heap limit does not see (resizable ArrayBuffers, WebAssembly memories) is
 * watched from the process: the run is stopped when the worker's resident set grew by more than
 * this many times memoryMiB (plus a fixed allowance) since the run began. A guest near its heap
 * limit stays well inside it; the worker's cgroup cap remains the hard backstop.
 */
const RSS_GROWTH_FACTOR = 2;
const RSS_ALLOWANCE_BYTES = 32 * 1024 * 1024;

export async function runInIsolate(warm: WarmIsolate, job: RunJob, bridge: ToolBridge, control: RunControl): Promise<DoneMessage> {
  const started = performance.now();
  const { isolate } = warm;
  // cpuNs: the run's CPU time. isolated-vm's cpuTime counts the whole time guest code runs,
  // waiting included (a thread blocked in Atomics.wait, or kept off a busy host's CPU, is charged),
  // and leaves out the time its calls to the worker take (console, tool calls, and the reply spin
  // inside a tool call: reply-spin.ts). A slice run on this thread is charged what the thread's
  // own CPU clock says instead: `adjustNs` adds, per slice, the thread's CPU less isolated-vm's
  // time, so waiting is taken back and the worker's CPU spent on the run's behalf inside its
  // slices is charged. `slice` holds both clocks at the start of the slice running now. The
  // isolate was built (and its bootstrap run) before this run: its clock counts from `bound`, once
  // the run holds it.
  const state: { stop: Stop | null; cpuNs: bigint; adjustNs: bigint; bound: bigint | null; slice: { ivm: bigint; thread: bigint } | null } = {
    stop: null,
    cpuNs: 0n,
    adjustNs: 0n,
    bound: null,
    slice: null,
  };
  const stop = (why: Stop): void => {
    if (state.stop !== null || isolate.isDisposed) return;
    state.stop = why;
    sample();
    isolate.dispose();
  };
  const sample = (): void => {
    if (!isolate.isDisposed && state.bound !== null) state.cpuNs = isolate.cpuTime - state.bound + state.adjustNs;
  };
  control.stop = stop;
  // Not disposed from inside the sink callback: the guest is mid-call there.
  const output = new GuestOutput(job.limits.outputBytes, () => {
    control.backstop.halt();
    setImmediate(() => stop('output'));
  });
  const wall = setTimeout(() => stop('wall'), job.limits.wallMs);
  const cpuLimitNs = BigInt(job.limits.cpuMs) * 1_000_000n;
  const rssAtStart = process.memoryUsage.rss();
  const rssLimit = RSS_GROWTH_FACTOR * job.limits.memoryMiB * 1024 * 1024 + RSS_ALLOWANCE_BYTES;
  let rssGrowth = 0;
  control.backstop.arm(rssAtStart, rssLimit);
  const watchMemory = (): void => {
    rssGrowth = Math.max(rssGrowth, process.memoryUsage.rss() - rssAtStart);
    if (rssGrowth > rssLimit) stop('memory');
  };
  const cpu = setInterval(() => {
    sample();
    if (state.cpuNs > cpuLimitNs) stop('cpu');
    watchMemory();
  }, CPU_SAMPLE_MS);
  // Each slice of guest code run on this thread (the module body, then what runs after each host
  // answer) is bounded in elapsed time by what is left of wallMs (isolated-vm's timeout is a wall
  // clock), and in CPU by the backstop thread, with what is left of cpuMs: a slice that waited for
  // a CPU on a busy host has spent wall time, not CPU, and is not stopped for CPU.
  const guard: SliceGuard = {
    begin: () => {
      // One read of the isolate's clock serves both the run's CPU so far and the slice's start.
      if (!isolate.isDisposed) {
        const ivm = isolate.cpuTime;
        if (state.bound !== null) state.cpuNs = ivm - state.bound + state.adjustNs;
        state.slice = { ivm, thread: threadCpuNs() };
      }
      control.backstop.sliceBegins(Number(state.cpuNs) / 1e3, Number(cpuLimitNs - state.cpuNs) / 1e3 + CPU_SAMPLE_MS * 1000);
      return job.limits.wallMs - (performance.now() - started);
    },
    end: () => {
      control.backstop.sliceEnds();
      const slice = state.slice;
      state.slice = null;
      if (slice === null || isolate.isDisposed) return;
      state.adjustNs += threadCpuNs() - slice.thread - (isolate.cpuTime - slice.ivm);
    },
    onTimeout: () => stop(sliceReason()),
  };
  // A slice stopped by the wall clock stopped for wall time, unless its CPU had run out too.
  const sliceReason = (): 'cpu' | 'wall' => {
    sample();
    return state.cpuNs >= cpuLimitNs ? 'cpu' : 'wall';
  };
  let memoryBytes = 0;
  let outcome: Outcome;
  try {
    warm.bind(output, bridge, guard, { tools: job.tools, network: job.network, delegation: job.delegation });
    state.bound = isolate.cpuTime;
    const raw =
      job.kind === 'wasm'
        ? await warm.runWasm(Buffer.from(job.code, 'base64'))
        : await warm.runMain(job.code, { inputJson: JSON.stringify(job.input ?? null), resultCap: job.limits.resultBytes, guard, compiled: control.compiled, tenant: job.tenant });
    sample();
    // A run shorter than one sample can't have touched much; longer ones get a last look.
    if (performance.now() - started >= CPU_SAMPLE_MS) watchMemory();
    if (!isolate.isDisposed) {
      const heap = isolate.getHeapStatisticsSync();
      memoryBytes = heap.used_heap_size + heap.externally_allocated_size;
    }
    if (output.overflowed) state.stop = 'output';
    outcome = state.stop === null ? fromGuest(raw, job.limits.resultBytes) : { kind: 'stopped', reason: state.stop };
  } catch (error) {
    if (output.overflowed) state.stop = 'output';
    // The first slice (the module body) ran out of what the guard gave it, like any later slice.
    if (error instanceof SyncTimeout && state.stop === null) state.stop = sliceReason();
    outcome = fromThrow(error, state.stop, isolate.isDisposed);
  } finally {
    sample();
    control.stop = null;
    control.backstop.disarm();
    clearTimeout(wall);
    clearInterval(cpu);
  }
  return {
    t: 'done',
    run: job.run,
    stdout: output.stdout,
    stderr: output.stderr,
    usage: { wallMs: performance.now() - started, cpuMs: Number(state.cpuNs) / 1e6, memoryBytes: Math.max(memoryBytes, rssGrowth) },
    outcome,
  };
}

/** The guest-side finisher answers with a small array of primitives (see guest-bootstrap.ts). */
function fromGuest(raw: unknown[], cap: number): Outcome {
  const [kind, a, b] = raw;
  switch (kind) {
    case 'ok':
      if (typeof a === 'string' && Buffer.byteLength(a) > cap) return { kind: 'result-too-large', bytes: Buffer.byteLength(a) };
      return { kind: 'ok', json: typeof a === 'string' ? a : null };
    case 'threw':
      return { kind: 'threw', message: String(a), code: typeof b === 'string' ? b : null };
    case 'not-plain':
      return { kind: 'result-not-plain', message: String(a) };
    case 'too-large':
      return { kind: 'result-too-large', bytes: Number(a) };
    case 'invalid':
      return { kind: 'invalid', code: String(a), message: String(b) };
    default:
      return { kind: 'threw', message: 'the guest finisher answered in an unknown shape', code: null };
  }
}

function fromThrow(error: unknown, stop: Stop | null, disposed: boolean): Outcome {
  if (stop !== null) return { kind: 'stopped', reason: stop };
  // An isolate we did not dispose was disposed by isolated-vm: its heap limit was hit.
  if (disposed) return { kind: 'stopped', reason: 'memory' };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { kind: 'threw', message, code: null };
}
