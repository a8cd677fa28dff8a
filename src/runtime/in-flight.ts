/**
 * What an Airlock has in flight (runs, execs, sandboxes being made), so that close() can stop it
 * and wait for each to record how it ended before the log closes; and the signal that close()
 * has begun, which a one-shot container run listens to.
 *
 * @example
 *   const work = new InFlight();
 *   return work.track(this.#run(request));   // in run()
 *   work.stop(); ...; await work.settled();   // in close()
 */
export class InFlight {
  readonly #work = new Set<Promise<unknown>>();
  readonly #closing = new AbortController();

  /** Aborted when close() begins. */
  get signal(): AbortSignal {
    return this.#closing.signal;
  }

  /** Whether close() has begun (a method: it changes across awaits, where a field read would be narrowed). */
  stopping(): boolean {
    return this.#closing.signal.aborted;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    const done = (): void => void this.#work.delete(work);
    work.then(done, done);
    return work;
  }

  stop(): void {
    this.#closing.abort();
  }

  /** Resolves once everything tracked so far has settled, however it ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#work]);
  }
}
