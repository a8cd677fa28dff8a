/**
 * A host-side heartbeat: a timer on the host's event loop that records the longest gap between
 * ticks. While a bomb runs in a sandbox, a host that stays responsive keeps it near the interval.
 */

export interface Heartbeat {
  /** Stops the timer; returns the longest gap between ticks (ms) and how many ticks there were. */
  stop(): { readonly maxGapMs: number; readonly ticks: number };
}

/**
 * @example
 *   const hb = startHeartbeat();
 *   await runSomething();
 *   hb.stop().maxGapMs // e.g. 12
 */
export function startHeartbeat(intervalMs = 10): Heartbeat {
  const state = { last: performance.now(), maxGapMs: 0, ticks: 0 };
  const timer = setInterval(() => {
    const now = performance.now();
    state.maxGapMs = Math.max(state.maxGapMs, now - state.last);
    state.last = now;
    state.ticks++;
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      // The gap since the last tick counts too: a loop blocked until the very end shows here.
      const gap = Math.max(state.maxGapMs, performance.now() - state.last);
      return { maxGapMs: Math.round(gap * 10) / 10, ticks: state.ticks };
    },
  };
}
