/**
 * The AuditSink the runtime writes to: `append` queues in memory (cheap, at the moment of each
 * decision), `flush` writes everything queued in one store transaction and resolves only once it
 * is durable. A run's result is returned after its flush, so a run whose events could not be made
 * durable is reported as failed.
 *
 * When a flush fails (disk full, database down) the events stay queued, in order, and the next
 * flush writes them: nothing appended is dropped, and what was already stored is untouched.
 *
 * The queue is bounded: once `flushAt` events wait, they are written in the background, so a long
 * exec's events don't all wait in memory for its end; and `room()` lets a producer (the egress
 * gateway, before each request) wait while `maxPending` events wait, which slows a flood to the
 * store's pace instead of growing the host's heap.
 */
import { AirlockError, toAirlockError } from '../core/errors.ts';
import { checkEvent } from './chain.ts';
import type { AuditEvent, AuditEventBody, AuditSink } from './event.ts';
import { isTenantId, type AuditStore } from './store.ts';

/** Events per store transaction when a long queue is flushed. */
const CHUNK = 1000;

export interface DurableSinkOptions {
  /** The clock stamped on each event as `at`. It may go backwards; seq keeps the order. */
  readonly now?: () => Date;
  /** Whether close() also closes the store (default) or leaves it to its other users. */
  readonly onClose?: 'close-store' | 'keep-store';
  /** Queued events at which a background write starts (default 1000). */
  readonly flushAt?: number;
  /** Queued events at which `room()` makes producers wait (default 10 000). */
  readonly maxPending?: number;
}

/**
 * @example
 *   const sink = new DurableAuditSink(SqliteAuditStore.open());
 *   sink.append({ kind: 'sandbox.destroyed', tenant: 'acme', sandbox: id, reason: 'done' });
 *   await sink.flush(); // durable now, or rejected with AUDIT_UNAVAILABLE / AUDIT_CORRUPT
 */
export class DurableAuditSink implements AuditSink {
  readonly #store: AuditStore;
  readonly #now: () => Date;
  readonly #onClose: 'close-store' | 'keep-store';
  readonly #pending: AuditEvent[] = [];
  /** Events refused at append time: reported by the next flush, since append can't fail. */
  readonly #refused: AirlockError[] = [];
  #tail: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #flushAt: number;
  readonly #maxPending: number;
  #writing = false;

  constructor(store: AuditStore, options: DurableSinkOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? (() => new Date());
    this.#onClose = options.onClose ?? 'close-store';
    this.#flushAt = options.flushAt ?? CHUNK;
    this.#maxPending = Math.max(this.#flushAt, options.maxPending ?? 10 * CHUNK);
  }

  /** Events queued and not yet durable. */
  get pending(): number {
    return this.#pending.length;
  }

  append(body: AuditEventBody): void {
    try {
      if (this.#closed) throw new AirlockError('AUDIT_UNAVAILABLE', 'this audit sink is closed: events after close are not recorded');
      const now = this.#now();
      if (Number.isNaN(now.getTime())) throw new AirlockError('INVALID_REQUEST', `the audit clock gave no valid time for a ${body.kind} event: fix the sink's now()`);
      const event = { ...body, v: 1, at: now.toISOString() } as AuditEvent;
      checkEvent(event, isTenantId);
      this.#pending.push(event);
    } catch (error) {
      this.#refused.push(toAirlockError(error, 'INVALID_REQUEST'));
    }
    if (this.#pending.length >= this.#flushAt && !this.#writing) {
      this.#writing = true;
      // A failed background write leaves the events queued; the next flush retries and reports it.
      void this.#write()
        .catch(() => undefined)
        .finally(() => (this.#writing = false));
    }
  }

  /**
   * Resolves once fewer than `maxPending` events wait, writing them meanwhile; rejects with the
   * store's error when they can't be written (the producer should then refuse its work).
   */
  async room(): Promise<void> {
    while (this.#pending.length >= this.#maxPending) await this.#write();
  }

  /** Writes what is queued, after any write already under way, without reporting refused events. */
  #write(): Promise<void> {
    const next = this.#tail.then(() => this.#writePending());
    this.#tail = next.catch(() => undefined);
    return next;
  }

  flush(): Promise<void> {
    // Flushes run one after another, so events reach the store in the order they were appended.
    const next = this.#tail.then(() => this.#flushNow());
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      if (this.#onClose === 'close-store') await this.#store.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #writePending(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.slice(0, CHUNK);
      await this.#store.append(batch);
      this.#pending.splice(0, batch.length);
    }
  }

  async #flushNow(): Promise<void> {
    await this.#writePending();
    const refused = this.#refused.splice(0);
    const first = refused[0];
    if (first !== undefined) {
      const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
      throw new AirlockError(first.code, `${first.message}${more}`, first.details);
    }
  }
}
