/**
 * The worker's memory backstop, on a thread of its own. The run's own watch (worker-run.ts) is a
 * timer on the worker's main thread, which can't fire while guest code runs synchronously: a guest
 * could take memory the isolate's heap limit does not count (a resizable buffer, a WebAssembly
 * memory) and give it back within one slice. This thread samples the process's resident set
 * whatever the main thread does; past the armed limit for two samples running, it says so on
 * stderr (the host reads the marker: MEMORY_LIMIT) and kills the process. The main thread's
 * watch normally acts first, and stops only the run.
 *
 * The thread's code is memory-watch-thread.ts, its own entry: importing this file (as the host
 * does, for the marker) starts nothing.
 *
 * Shared state: Int32s — the armed flag, the thread's state (sampling, or idle: asleep on the flag
 * until notified), the run's generation — then Float64s, the baseline and the limit in bytes.
 *
 * Waking a sleeping thread costs the worker ~0.3 ms of CPU per run on this VM (measured: isolate
 * create + run + dispose, 2.3 vs 2.0 ms with no watch). So the thread keeps sampling for a while
 * after a run (LINGER_TICKS), and arm() notifies only a thread that has gone idle: back-to-back
 * runs wake nothing, and a worker idle for longer than the linger has no timer waking it.
 */
import { Worker } from 'node:worker_threads';

/** What the worker writes to stderr before it kills itself for memory; the host looks for it. */
export const MEMORY_MARKER = 'airlock-worker: memory limit passed, aborting';

/** The shared state's layout: three Int32s (flag, state, generation) and padding, then two Float64s. */
export const WATCH_BYTES = 4 * 8;
export const WATCH = { flag: 0, state: 1, generation: 2, floatsAt: 16 } as const;
/** The thread's states. */
export const SAMPLING = 1;
export const IDLE = 0;

export interface MemoryWatch {
  arm(baselineBytes: number, limitBytes: number): void;
  disarm(): void;
}

/** Starts the watch thread (from the worker's main thread). */
export function startMemoryWatch(): MemoryWatch {
  const buffer = new SharedArrayBuffer(WATCH_BYTES);
  const ints = new Int32Array(buffer, 0, 3);
  const bytes = new Float64Array(buffer, WATCH.floatsAt, 2);
  const thread = new Worker(new URL('./memory-watch-thread.ts', import.meta.url), { workerData: buffer });
  thread.unref();
  return {
    arm(baseline, limit) {
      bytes[0] = baseline;
      bytes[1] = limit;
      Atomics.add(ints, WATCH.generation, 1);
      Atomics.store(ints, WATCH.flag, 1);
      // The thread publishes IDLE before it checks the flag a last time and sleeps: either it sees
      // this arm, or this load sees IDLE and the notify wakes it (Atomics are sequentially consistent).
      if (Atomics.load(ints, WATCH.state) === IDLE) Atomics.notify(ints, WATCH.flag);
    },
    disarm() {
      Atomics.store(ints, WATCH.flag, 0);
    },
  };
}
