/** The memory backstop's thread (see memory-watch.ts): started only by startMemoryWatch(). */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { IDLE, MEMORY_MARKER, SAMPLING, WATCH, WATCH_BYTES } from './memory-watch.ts';

const SAMPLE_MS = 5;
/** Disarmed sample periods the thread keeps ticking before it sleeps until notified (100 ms). */
const LINGER_TICKS = 20;

function watch(buffer: SharedArrayBuffer): never {
  const ints = new Int32Array(buffer, 0, 3);
  const bytes = new Float64Array(buffer, WATCH.floatsAt, 2);
  let over = 0;
  let generation = -1;
  let linger = LINGER_TICKS;
  Atomics.store(ints, WATCH.state, SAMPLING);
  for (;;) {
    if (Atomics.load(ints, WATCH.flag) === 0) {
      if (linger > 0) {
        linger -= 1;
        Atomics.wait(ints, WATCH.flag, 0, SAMPLE_MS); // disarmed, lingering: an arm is seen at the next tick
        continue;
      }
      Atomics.store(ints, WATCH.state, IDLE);
      // Checked again after IDLE is public: an arm before this load is seen here, one after it notifies.
      if (Atomics.load(ints, WATCH.flag) === 0) Atomics.wait(ints, WATCH.flag, 0);
      Atomics.store(ints, WATCH.state, SAMPLING);
      continue;
    }
    linger = LINGER_TICKS;
    Atomics.wait(ints, WATCH.flag, 1, SAMPLE_MS); // armed: one sample period
    if (Atomics.load(ints, WATCH.flag) !== 1) continue;
    const run = Atomics.load(ints, WATCH.generation);
    if (run !== generation) {
      // A new run: count afresh.
      generation = run;
      over = 0;
    }
    over = process.memoryUsage.rss() - (bytes[0] ?? 0) > (bytes[1] ?? Infinity) ? over + 1 : 0;
    if (over >= 2) {
      writeSync(2, `${MEMORY_MARKER}\n`);
      // A worker thread can't abort the process; SIGKILL to its own group (pid 0) is what the
      // worker's seccomp filter allows of kill(2).
      process.kill(0, 'SIGKILL');
    }
  }
}

if (workerData instanceof SharedArrayBuffer && workerData.byteLength === WATCH_BYTES) watch(workerData);
