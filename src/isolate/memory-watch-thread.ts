/** The memory backstop's thread (see memory-watch.ts): started only by startMemoryWatch(). */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { MEMORY_MARKER, WATCH_BYTES } from './memory-watch.ts';

const SAMPLE_MS = 5;

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

if (workerData instanceof SharedArrayBuffer && workerData.byteLength === WATCH_BYTES) watch(workerData);
