/**
 * After a tool call is sent, the worker reads its socket itself for a short while instead of
 * sleeping in the event loop. On this VM an idle vCPU halts (haltpoll.guest_halt_poll_ns=0), and
 * waking it for the host's answer costs about as much as the rest of the call: tool calls took
 * 99–128 µs p50 with the worker asleep and 70–75 µs spinning (test/../bench, tool_call_p50_us).
 *
 * Bounded and adaptive: at most `budgetNs` per call, and only while answers come within that
 * budget (a slow handler's calls do not spin at all, so they burn nothing). The bytes read go to
 * the same frame reader the socket's 'data' events feed, in order: both read one fd on one thread.
 */
import { readSync } from 'node:fs';

export interface ReplySpin {
  /** Reads `fd` until `answered()` or the budget is spent; feeds what it reads to `push`. */
  wait(answered: () => boolean): void;
  /** How long the last answer took, from the call's send: decides whether the next one spins. */
  observe(latencyNs: bigint): void;
}

export function replySpin(fd: number, push: (chunk: Buffer) => void, budgetNs: bigint): ReplySpin {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  let worth = true;
  return {
    wait(answered) {
      if (!worth) return;
      const until = process.hrtime.bigint() + budgetNs;
      while (process.hrtime.bigint() < until) {
        let n: number;
        try {
          n = readSync(fd, buffer, 0, buffer.length, null);
        } catch {
          continue; // EAGAIN: nothing yet (the socket is non-blocking)
        }
        if (n === 0) return; // the host closed the socket: the event loop sees it too
        push(Buffer.from(buffer.subarray(0, n)));
        if (answered()) return;
      }
    },
    observe(latencyNs) {
      worth = latencyNs <= budgetNs;
    },
  };
}
