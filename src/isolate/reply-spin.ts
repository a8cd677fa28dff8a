/**
 * After a tool call is sent, the worker reads its socket itself for a short while instead of
 * sleeping in the event loop. On this VM an idle vCPU halts (haltpoll.guest_halt_poll_ns=0), and
 * waking it for the host's answer costs about as much as the rest of the call. A/B of 2000-call
 * runs, alternating: 99–128 µs p50 asleep vs 70–75 spinning 150 µs (a quiet hour); 144–161 asleep,
 * 107–137 spinning 150 µs, 84–137 spinning 300 µs (a busy one). The worker spins 300 µs.
 *
 * Who pays: the run. The spin runs inside the guest's slice (the guest's call into the worker), and
 * a slice is charged the worker thread's CPU (worker-run.ts), so the spin counts against the run's
 * cpuMs and shows in its usage. Bounded and adaptive: at most `budgetNs` per call, and per run at
 * most what `startRun` allows (the worker gives a tenth of the run's cpuMs, so a slow host can't
 * spend more than that of a run's CPU on spinning); after a spin that ran out before the answer
 * came (a slow handler, a busy host), only every RETRY_EVERY-th call spins, until one is answered
 * within the budget again. The bytes read go to the same frame reader the socket's 'data' events
 * feed, in order: both read one fd on one thread.
 */
import { readSync } from 'node:fs';

/** One non-blocking read into `buffer`: bytes read, 0 at end of stream; throws (EAGAIN) when there are none yet. */
export type ReadInto = (buffer: Buffer) => number;

/** The worker's socket, read directly. */
export function readFd(fd: number): ReadInto {
  return (buffer) => readSync(fd, buffer, 0, buffer.length, null);
}

/** While answers are slow, one call in this many still spins, to notice when they are fast again. */
const RETRY_EVERY = 8;

export interface ReplySpin {
  /** A run begins: it may spin `totalNs` in all. */
  startRun(totalNs: bigint): void;
  /** Reads until `answered()` or the budget is spent; feeds what it reads to `push`. */
  wait(answered: () => boolean): void;
}

export function replySpin(read: ReadInto, push: (chunk: Buffer) => void, budgetNs: bigint): ReplySpin {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  let worth = true;
  let skipped = 0;
  let left = 0n;
  return {
    startRun(totalNs) {
      left = totalNs;
    },
    wait(answered) {
      if (left <= 0n) return;
      if (!worth && ++skipped < RETRY_EVERY) return;
      skipped = 0;
      const start = process.hrtime.bigint();
      const until = start + (budgetNs < left ? budgetNs : left);
      try {
        worth = spinUntil(until, answered);
      } finally {
        left -= process.hrtime.bigint() - start;
      }
    },
  };

  /** True when the answer came within the spin. */
  function spinUntil(until: bigint, answered: () => boolean): boolean {
    while (process.hrtime.bigint() < until) {
      let n: number;
      try {
        n = read(buffer);
      } catch {
        continue; // EAGAIN: nothing yet (the socket is non-blocking)
      }
      if (n === 0) return false; // the host closed the socket: the event loop sees it too
      push(Buffer.from(buffer.subarray(0, n)));
      if (answered()) return true;
    }
    return false;
  }
}
