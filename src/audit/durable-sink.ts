/**
 * The AuditSink the runtime writes to: `append` queues in memory (cheap, at the moment of each
 * decision), `flush` resolves once everything appended before it is stored (durable, or in
 * 'batched' mode committed: see wal-sync.ts). A run's result is returned after its flush, so a run
 * whose events could not be stored is reported as failed.
 *
 * Group commit: one write is under way at a time, and it takes everything queued when it starts,
 * in one store transaction (one fsync). A flush called while a write is under way waits for the
 * next write, which starts as soon as that one ends and covers every flush called meanwhile; so
 * concurrent runs share a write, and a run never waits for a write started after the one that
 * holds its events (unless more than CHUNK events were queued ahead of its own).
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
  #closed = false;
  readonly #flushAt: number;
  readonly #maxPending: number;
  /** Events ever queued, and how many of them the store has: a flush waits until stored ≥ queued at its call. */
  #queued = 0;
  #stored = 0;
  /** The one write under way, if any. */
  #writing: Promise<void> | null = null;

  constructor(store: AuditStore, options: DurableSinkOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? (() => new Date());
    this.#onClose = options.onClose ?? 'close-store';
    this.#flushAt = options.flushAt ?? CHUNK;
    this.#maxPending = Math.max(this.#flushAt, options.maxPending ?? 10 * CHUNK);
  }

  /** Events queued and not yet stored. */
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
      this.#queued += 1;
    } catch (error) {
      this.#refused.push(toAirlockError(error, 'INVALID_REQUEST'));
    }
    this.#background();
  }

  /** Past flushAt, writes in the background (again after each write while the queue stays long). */
  #background(): void {
    // A failed background write leaves the events queued; the next flush retries and reports it.
    if (this.#pending.length >= this.#flushAt && this.#writing === null) void this.#write().catch(() => undefined);
  }

  /**
   * Resolves once fewer than `maxPending` events wait, writing them meanwhile; rejects with the
   * store's error when they can't be written (the producer should then refuse its work).
   */
  async room(): Promise<void> {
    while (this.#pending.length >= this.#maxPending) await this.#write();
  }

  /** Resolves once every event appended before this call is stored; rejects if its write failed. */
  async flush(): Promise<void> {
    const target = this.#queued;
    while (this.#stored < target) await this.#write();
    const refused = this.#refused.splice(0);
    const first = refused[0];
    if (first !== undefined) {
      const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
      throw new AirlockError(first.code, `${first.message}${more}`, first.details);
    }
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

  /** The write under way, or a new one of what is queued now. Writes never overlap: events stay in order. */
  #write(): Promise<void> {
    if (this.#writing === null) {
      const write = this.#writeQueued();
      this.#writing = write.finally(() => (this.#writing = null));
      // After the line above's reaction, so #writing is free again; not after a failure (no retry loop).
      write.then(() => this.#background(), () => undefined);
    }
    return this.#writing;
  }

  async #writeQueued(): Promise<void> {
    const batch = this.#pending.slice(0, CHUNK);
    if (batch.length === 0) return;
    // On failure the batch stays at the head of the queue, in order, for the next write.
    await this.#store.append(batch);
    this.#pending.splice(0, batch.length);
    this.#stored += batch.length;
  }
}
