/**
 * A part made at its first use, once: the egress gateway and the container tier load their
 * modules (HTTP, TLS, namespaces, seccomp) only when a run needs them, so a one-shot isolate run
 * starts without them.
 *
 * @example
 *   const gateway = new OnDemand(async () => new (await import('../egress/gateway.ts')).EgressGateway(options));
 *   const g = await gateway.get();            // made now, or the one made before
 *   await gateway.ifAsked((g) => g.close());  // only if anyone asked for it
 */
export class OnDemand<T> {
  readonly #make: () => Promise<T>;
  #made: Promise<T> | null = null;

  constructor(make: () => Promise<T>) {
    this.#make = make;
  }

  get(): Promise<T> {
    this.#made ??= this.#make();
    return this.#made;
  }

  /** Runs `then` on the part if it was asked for (made, or being made); otherwise does nothing. */
  async ifAsked(then: (part: T) => unknown): Promise<void> {
    if (this.#made !== null) await then(await this.#made);
  }
}
