/**
 * A sandbox's clock: it ends the sandbox after `idleMs` with nothing in flight, or `lifetimeMs`
 * after it was made, whichever comes first (policy.limits.idleMs / lifetimeMs). Activity is
 * anything wrapped in `busy()`: runs, execs, file operations. The idle clock stops while one is
 * in flight; the lifetime clock never stops. A run still in flight at the end of the lifetime is
 * not cut short here: the expiry refuses new work at once and the run ends under its own wallMs
 * (the container tier's destroy kills it at once).
 *
 * Timers are unref'd: a forgotten sandbox never keeps the process alive, and what it leaves at
 * exit is the reaper's to remove.
 */
export type Expiry = 'idle' | 'lifetime';

export interface LifeTimerOptions {
  readonly idleMs: number;
  readonly lifetimeMs: number;
  /** Called once, at the first expiry; not called after stop(). */
  readonly onExpire: (why: Expiry) => void;
}

/**
 * @example
 *   const clock = new LifeTimer({ idleMs: 60_000, lifetimeMs: 600_000, onExpire: (why) => void sandbox.destroy() });
 *   await clock.busy(() => sandbox.run(code));
 *   clock.stop(); // when the sandbox is destroyed by its owner
 */
export class LifeTimer {
  readonly #options: LifeTimerOptions;
  readonly #lifetime: NodeJS.Timeout;
  #idle: NodeJS.Timeout | null = null;
  #inflight = 0;
  #done = false;

  constructor(options: LifeTimerOptions) {
    this.#options = options;
    this.#lifetime = setTimeout(() => this.#expire('lifetime'), options.lifetimeMs).unref();
    this.#armIdle();
  }

  /** True once the sandbox expired or the timer was stopped. */
  get done(): boolean {
    return this.#done;
  }

  #armIdle(): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = this.#done || this.#inflight > 0 ? null : setTimeout(() => this.#expire('idle'), this.#options.idleMs).unref();
  }

  #expire(why: Expiry): void {
    if (this.#done) return;
    this.stop();
    this.#options.onExpire(why);
  }

  /** Runs `work` as activity: no idle expiry while it is in flight; the idle clock restarts after. */
  async busy<T>(work: () => Promise<T>): Promise<T> {
    this.#inflight += 1;
    this.#armIdle();
    try {
      return await work();
    } finally {
      this.#inflight -= 1;
      this.#armIdle();
    }
  }

  /** Stops both clocks for good. Idempotent. */
  stop(): void {
    this.#done = true;
    clearTimeout(this.#lifetime);
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
  }
}
