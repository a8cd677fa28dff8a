/**
 * The worker's memory backstop, on a thread of its own. The run's own watch (worker-run.ts) is a
 * timer on the worker's main thread, which can't fire while guest code runs synchronously: a guest
 * could take memory the isolate's heap limit does not count (a resizable buffer, a WebAssembly
 * memory) and give it back within one slice. This thread samples the process's resident set
 * whatever the main thread does; past the armed limit for two samples running, it says so on
 * stderr (the host reads the marker: MEMORY_LIMIT) and kills the process. The main thread's
 * watch normally acts first, and stops only the run.
 *
 * Shared state, set by the main thread: an Int32 armed flag (the thread sleeps on it while
 * disarmed, so an idle worker has no timer waking it), then the baseline and the limit in bytes.
 */
import { writeSync } from 'node:fs';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

/** What the worker writes to stderr before it aborts for memory; the host looks for it. */
export const MEMORY_MARKER = 'airlock-worker: memory limit passed, aborting';

const SAMPLE_MS = 5;

export interface MemoryWatch {
  arm(baselineBytes: number, limitBytes: number): void;
  disarm(): void;
}

/** Starts the watch thread (from the worker's main thread). */
export function startMemoryWatch(): MemoryWatch {
  const buffer = new SharedArrayBuffer(3 * 8);
  const flag = new Int32Array(buffer, 0, 1);
  const bytes = new Float64Array(buffer, 8, 2);
  const thread = new Worker(new URL(import.meta.url), { workerData: buffer });
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

function watch(buffer: SharedArrayBuffer): never {
  const flag = new Int32Array(buffer, 0, 1);
  const bytes = new Float64Array(buffer, 8, 2);
  let over = 0;
  let baseline = -1;
  for (;;) {
    if (Atomics.load(flag, 0) === 0) {
      Atomics.wait(flag, 0, 0); // disarmed: sleep until a run arms the watch
      continue;
    }
    Atomics.wait(flag, 0, 1, SAMPLE_MS); // armed: one sample period
    if (Atomics.load(flag, 0) !== 1) continue;
    const base = bytes[0] ?? 0;
    if (base !== baseline) {
      // A new run: count afresh.
      baseline = base;
      over = 0;
    }
    over = process.memoryUsage.rss() - base > (bytes[1] ?? Infinity) ? over + 1 : 0;
    if (over >= 2) {
      writeSync(2, `${MEMORY_MARKER}\n`);
      // A worker thread can't abort the process; SIGKILL to its own group (pid 0) is what the
      // worker's seccomp filter allows of kill(2).
      process.kill(0, 'SIGKILL');
    }
  }
}

if (!isMainThread) watch(workerData as SharedArrayBuffer);
