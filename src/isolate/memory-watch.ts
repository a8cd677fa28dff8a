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
 * Shared state, set by the main thread: an Int32 armed flag (the thread sleeps on it while
 * disarmed, so an idle worker has no timer waking it), then the baseline and the limit in bytes.
 */
import { Worker } from 'node:worker_threads';

/** What the worker writes to stderr before it kills itself for memory; the host looks for it. */
export const MEMORY_MARKER = 'airlock-worker: memory limit passed, aborting';

/** The shared state's layout: the Int32 armed flag, then two Float64s. */
export const WATCH_BYTES = 3 * 8;

export interface MemoryWatch {
  arm(baselineBytes: number, limitBytes: number): void;
  disarm(): void;
}

/** Starts the watch thread (from the worker's main thread). */
export function startMemoryWatch(): MemoryWatch {
  const buffer = new SharedArrayBuffer(WATCH_BYTES);
  const flag = new Int32Array(buffer, 0, 1);
  const bytes = new Float64Array(buffer, 8, 2);
  const thread = new Worker(new URL('./memory-watch-thread.ts', import.meta.url), { workerData: buffer });
  thread.unref();
  return {
    arm(baseline, limit) {
      bytes[0] = baseline;
      bytes[1] = limit;
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
    disarm() {
      Atomics.store(flag, 0, 0);
    },
  };
}
