/** A run's captured console output, capped: the first write past the cap stops the run. */
export class GuestOutput {
  readonly #chunks: [string[], string[]] = [[], []];
  #bytes = 0;
  #overflowed = false;
  readonly #cap: number;
  readonly #onOverflow: () => void;

  constructor(cap: number, onOverflow: () => void) {
    this.#cap = cap;
    this.#onOverflow = onOverflow;
  }

  /** Throws into the guest once the cap is passed, so a flood can't keep the isolate busy writing. */
  write(stream: unknown, text: unknown): void {
    if (this.#overflowed) throw new Error('output limit reached');
    if (typeof text !== 'string') return;
    const bytes = Buffer.byteLength(text);
    if (this.#bytes + bytes > this.#cap) {
      this.#overflowed = true;
      const room = this.#cap - this.#bytes;
      if (room > 0) this.#chunks[stream === 2 ? 1 : 0].push(Buffer.from(text).subarray(0, room).toString());
      this.#bytes = this.#cap;
      this.#onOverflow();
      throw new Error('output limit reached');
    }
    this.#bytes += bytes;
    this.#chunks[stream === 2 ? 1 : 0].push(text);
  }

  get overflowed(): boolean {
    return this.#overflowed;
  }

  get stdout(): string {
    return this.#chunks[0].join('');
  }

  get stderr(): string {
    return this.#chunks[1].join('');
  }
}
