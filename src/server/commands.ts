/**
 * A command running in a container sandbox, as the HTTP API sees it: its output as numbered events
 * (stdout, stderr, then one `ended` or `failed`), kept so a client that lost its stream can attach
 * again and read on from the last event it saw (SSE's Last-Event-ID). Output is bounded by the
 * sandbox's limits.outputBytes (the exec stops the command past it), so the record is too.
 *
 * @example
 *   const cmd = new CommandRecord(newId('cmd'));
 *   void box.exec(argv, { onStdout: (t) => cmd.push('stdout', t) }).then((r) => cmd.end(r), (e) => cmd.fail(e));
 *   for await (const e of cmd.follow(0, signal)) send(e);
 */
import type { ExecResult } from '../container/index.ts';
import { toAirlockError } from '../core/errors.ts';

export type CommandEventName = 'stdout' | 'stderr' | 'ended' | 'failed';

export interface CommandEvent {
  /** 1, 2, 3… in the order they happened; the SSE id. */
  readonly seq: number;
  readonly event: CommandEventName;
  /** Output text, or the JSON of the ExecResult (`ended`) or of `{ error: { code, message } }` (`failed`). */
  readonly data: string;
}

export class CommandRecord {
  readonly id: string;
  readonly startedAt = new Date().toISOString();
  readonly #events: CommandEvent[] = [];
  /** Woken on every new event; each follower waits on the current one. */
  #next = Promise.withResolvers<undefined>();
  #result: ExecResult | null = null;
  #done = false;

  constructor(id: string) {
    this.id = id;
  }

  get done(): boolean {
    return this.#done;
  }

  get result(): ExecResult | null {
    return this.#result;
  }

  push(event: 'stdout' | 'stderr', text: string): void {
    this.#add(event, text);
  }

  end(result: ExecResult): void {
    this.#result = result;
    this.#add('ended', JSON.stringify(result));
  }

  fail(error: unknown): void {
    this.#add('failed', JSON.stringify({ error: toAirlockError(error).toJSON() }));
  }

  #add(event: CommandEventName, data: string): void {
    if (this.#done) return;
    this.#events.push({ seq: this.#events.length + 1, event, data });
    if (event === 'ended' || event === 'failed') this.#done = true;
    const woken = this.#next;
    this.#next = Promise.withResolvers<undefined>();
    woken.resolve(undefined);
  }

  /** Every event after `afterSeq`, then each new one as it comes, until the last or `signal`. */
  async *follow(afterSeq: number, signal: AbortSignal): AsyncGenerator<CommandEvent> {
    let seen = Math.max(0, afterSeq);
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    for (;;) {
      const wake = this.#next.promise;
      while (seen < this.#events.length) {
        const e = this.#events[seen];
        seen += 1;
        if (e !== undefined) yield e;
      }
      if (this.#done || signal.aborted) return;
      await Promise.race([wake, aborted]);
    }
  }
}
