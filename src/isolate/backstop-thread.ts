/** The backstop's thread (see backstop.ts): started only by startBackstop(). */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { BIG, CPU_MARKER, IDLE, MEMORY_MARKER, OUTPUT_MARKER, processCpuUs, SAMPLING, WATCH, WATCH_BYTES } from './backstop.ts';

const SAMPLE_MS = 5;
/** Disarmed sample periods the thread keeps ticking before it sleeps until notified (100 ms). */
const LINGER_TICKS = 20;

function die(marker: string): never {
  writeSync(2, `${marker}\n`);
  // A worker thread can't abort the process; SIGKILL to its own group (pid 0) is what the
  // worker's seccomp filter allows of kill(2).
  process.kill(0, 'SIGKILL');
  throw new Error('unreachable: the process was killed');
}

/** The CPU the running slice spent past its budget, as the run's total in ms; null while within it. */
function sliceOverrun(ints: Int32Array, bigs: BigInt64Array): number | null {
  const generation = Atomics.load(ints, WATCH.slice);
  const budget = Atomics.load(bigs, BIG.sliceBudgetUs);
  if (budget < 0n) return null;
  const start = Atomics.load(bigs, BIG.sliceStartUs);
  const before = Atomics.load(bigs, BIG.spentBeforeUs);
  // A slice that ended or began while this read is read again at the next sample.
  if (Atomics.load(ints, WATCH.slice) !== generation) return null;
  const spent = processCpuUs() - start;
  return spent > budget ? Number(before + spent) / 1000 : null;
}

/** Ends the process when a halted slice is still the same running slice a sample later; returns the generation to remember. */
function halting(ints: Int32Array, bigs: BigInt64Array, haltedIn: number): number {
  if (Atomics.load(ints, WATCH.halt) === 0 || Atomics.load(bigs, BIG.sliceBudgetUs) < 0n) return -1;
  const slice = Atomics.load(ints, WATCH.slice);
  if (slice === haltedIn) die(OUTPUT_MARKER);
  return slice;
}

function watch(buffer: SharedArrayBuffer): never {
  const ints = new Int32Array(buffer, 0, 5);
  const bigs = new BigInt64Array(buffer, WATCH.bigsAt, 5);
  let over = 0;
  /** The slice generation a halt was first seen in, or -1. */
  let haltedIn = -1;
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
    const rss = BigInt(process.memoryUsage.rss());
    over = rss - Atomics.load(bigs, BIG.rssBaseline) > Atomics.load(bigs, BIG.rssLimit) ? over + 1 : 0;
    if (over >= 2) die(MEMORY_MARKER);
    const cpuMs = sliceOverrun(ints, bigs);
    if (cpuMs !== null) die(`${CPU_MARKER} cpu=${cpuMs.toFixed(1)}`);
    haltedIn = halting(ints, bigs, haltedIn);
  }
}

if (workerData instanceof SharedArrayBuffer && workerData.byteLength === WATCH_BYTES) watch(workerData);
