/**
 * The worker's backstop, on a thread of its own, for what the run's own watch (worker-run.ts: a
 * timer on the worker's main thread) can't see: that timer can't fire while guest code runs
 * synchronously on the main thread.
 *
 * - **Memory**: a guest could take memory the isolate's heap limit does not count (a resizable
 *   buffer, a WebAssembly memory) and give it back within one slice. The thread samples the
 *   process's resident set; past the armed limit for two samples running it says so on stderr
 *   (MEMORY_MARKER: the host reports MEMORY_LIMIT) and kills the process.
 * - **CPU within a slice**: a slice of guest code is bounded in elapsed time only by what is left of
 *   `wallMs` (isolated-vm's `timeout` is a wall clock: bounding a slice by cpuMs of elapsed time
 *   would stop a run that merely waited for a CPU on a busy host, and charge that wait as CPU).
 *   Its CPU is bounded here: when a slice begins, the main thread publishes the process's CPU
 *   clock and what is left of the run's cpuMs (from the isolate's own CPU clock); the thread
 *   compares the process's CPU clock against that every sample. While a slice runs, the main
 *   thread runs nothing but the guest, and the process's other threads are the guest's garbage
 *   collector and this thread; past the budget the thread writes CPU_MARKER with the CPU spent
 *   and kills the process (the host reports CPU_TIMEOUT). A slice is therefore stopped within
 *   about a sample (5 ms) of CPU after its run's cpuMs ran out, never because it waited.
 *
 * - **Output**: past its cap, each write throws into the guest; a slice that catches and goes on
 *   writing is ended by this thread (OUTPUT_MARKER) if it is still running two samples later.
 *   The output captured so far is lost with the process; a guest that lets the refusal end its
 *   slice keeps it.
 *
 * The main thread's watch normally acts first for memory, and between slices for CPU, and stops
 * only the run. The thread's code is backstop-thread.ts, its own entry: importing this file (as
 * the host does, for the markers) starts nothing.
 *
 * Shared state: Int32s — the armed flag, the thread's state (sampling, or idle: asleep on the flag
 * until notified), the run's generation, the slice generation, the halt flag — then BigInt64s: the memory
 * baseline and limit in bytes, and the slice's CPU start, budget and CPU spent before it, in µs
 * (budget -1: no slice is running).
 *
 * Waking a sleeping thread costs the worker ~0.3 ms of CPU per run on this VM (measured: isolate
 * create + run + dispose, 2.3 vs 2.0 ms with no watch). So the thread keeps sampling for a while
 * after a run (LINGER_TICKS), and arm() notifies only a thread that has gone idle: back-to-back
 * runs wake nothing, and a worker idle for longer than the linger has no timer waking it.
 */
import { Worker } from 'node:worker_threads';

/** What the worker writes to stderr before it kills itself for memory; the host looks for it. */
export const MEMORY_MARKER = 'airlock-worker: memory limit passed, aborting';
/** Likewise for CPU, followed by the CPU the run had spent, in ms: `… cpu=512.3`. */
export const CPU_MARKER = 'airlock-worker: cpu limit passed inside a slice, aborting';

/** Likewise when the run's output passed its cap and the slice went on (it caught the refusals). */
export const OUTPUT_MARKER = 'airlock-worker: output limit passed inside a slice, aborting';

/** The shared state's layout: five Int32s (and padding), then five BigInt64s. */
export const WATCH_BYTES = 24 + 5 * 8;
export const WATCH = { flag: 0, state: 1, generation: 2, slice: 3, halt: 4, bigsAt: 24 } as const;
/** Indices into the BigInt64s. */
export const BIG = { rssBaseline: 0, rssLimit: 1, sliceStartUs: 2, sliceBudgetUs: 3, spentBeforeUs: 4 } as const;
/** The thread's states. */
export const SAMPLING = 1;
export const IDLE = 0;

/** The process's CPU clock (all threads), in µs. */
export function processCpuUs(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system);
}

export interface Backstop {
  arm(baselineBytes: number, limitBytes: number): void;
  /** A slice of guest code begins: it may spend `budgetUs` more of CPU; the run had spent `spentUs`. */
  sliceBegins(spentUs: number, budgetUs: number): void;
  /** The slice ended: what runs now on the main thread is not the guest's. */
  sliceEnds(): void;
  /** The run's output passed its cap: a slice still running two samples from now is ended. */
  halt(): void;
  disarm(): void;
}

/** Starts the backstop thread (from the worker's main thread). */
export function startBackstop(): Backstop {
  const buffer = new SharedArrayBuffer(WATCH_BYTES);
  const ints = new Int32Array(buffer, 0, 5);
  const bigs = new BigInt64Array(buffer, WATCH.bigsAt, 5);
  Atomics.store(bigs, BIG.sliceBudgetUs, -1n);
  // The thread's script sits beside this module in the same form: backstop-thread.ts beside the
  // sources, backstop-thread.mjs beside the worker's build (scripts/build.ts).
  const thread = new Worker(new URL(import.meta.url.endsWith('.ts') ? './backstop-thread.ts' : './backstop-thread.mjs', import.meta.url), { workerData: buffer });
  thread.unref();
  return {
    arm(baseline, limit) {
      Atomics.store(bigs, BIG.rssBaseline, BigInt(Math.round(baseline)));
      Atomics.store(bigs, BIG.rssLimit, BigInt(Math.round(limit)));
      Atomics.add(ints, WATCH.generation, 1);
      Atomics.store(ints, WATCH.flag, 1);
      // The thread publishes IDLE before it checks the flag a last time and sleeps: either it sees
      // this arm, or this load sees IDLE and the notify wakes it (Atomics are sequentially consistent).
      if (Atomics.load(ints, WATCH.state) === IDLE) Atomics.notify(ints, WATCH.flag);
    },
    sliceBegins(spentUs, budgetUs) {
      // Budget last: the thread reads a slice only when its generation did not move while it read.
      Atomics.store(bigs, BIG.sliceBudgetUs, -1n);
      Atomics.add(ints, WATCH.slice, 1);
      Atomics.store(bigs, BIG.spentBeforeUs, BigInt(Math.max(0, Math.round(spentUs))));
      Atomics.store(bigs, BIG.sliceStartUs, processCpuUs());
      Atomics.store(bigs, BIG.sliceBudgetUs, BigInt(Math.max(0, Math.round(budgetUs))));
    },
    sliceEnds() {
      Atomics.store(bigs, BIG.sliceBudgetUs, -1n);
      Atomics.add(ints, WATCH.slice, 1);
    },
    halt() {
      Atomics.store(ints, WATCH.halt, 1);
    },
    disarm() {
      Atomics.store(ints, WATCH.halt, 0);
      Atomics.store(bigs, BIG.sliceBudgetUs, -1n);
      Atomics.store(ints, WATCH.flag, 0);
    },
  };
}
