/**
 * An AuditStore that signs the chain's head at intervals and at close, and publishes each signed
 * checkpoint to its witnesses. It wraps either store (SQLite or PostgreSQL) and changes nothing
 * about appends but what happens after them:
 *
 * - Every `everyRecords` records or `everyMs` ms after the first unsigned one, whichever comes
 *   first, the head this process last appended is signed (~25 µs) and published in the background:
 *   appends never wait for a signature or a witness, and a slow witness gets fewer checkpoints, not
 *   a queue. close() signs the final head and waits until every witness has it.
 * - Before its first append it reads the first witness's latest checkpoint back and checks the
 *   log still holds it; before each later signature it checks that the last checkpoint it knows is
 *   still in the log. A log shortened or rewritten under it (truncated, then extended again by
 *   airlock) is refused rather than signed, and so is an append whose seq is not past this host's
 *   previous one (the head was moved back): appends then fail with AUDIT_TRUNCATED or
 *   AUDIT_CHAIN_BROKEN until the operator has looked.
 * - A witness that fails, or takes longer than `publishMs`, does not stop appends (the log itself
 *   is durable); the next checkpoint tries again, and close() rejects with the failure if the last
 *   one did not reach every witness.
 */
import type { KeyObject } from 'node:crypto';
import { AirlockError, toAirlockError } from '../core/errors.ts';
import type { AuditRecord, ChainHead } from './chain.ts';
import { checkpointProblem, signCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { CheckpointWitness } from './checkpoint-witness.ts';
import type { AuditEvent } from './event.ts';
import type { AuditQuery, AuditStore, ChainReader } from './store.ts';

export interface CheckpointingOptions {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Where checkpoints go; the first is also read back before the first append. At least one. */
  readonly witnesses: readonly CheckpointWitness[];
  /** Sign after this many records (default 1000). */
  readonly everyRecords?: number;
  /** Sign this long after the first unsigned record (default 1000 ms). */
  readonly everyMs?: number;
  /** How long one witness may take to keep a checkpoint before it counts as failed (default 10 s). */
  readonly publishMs?: number;
  readonly now?: () => Date;
}

export const DEFAULT_EVERY_RECORDS = 1000;
export const DEFAULT_EVERY_MS = 1000;
export const DEFAULT_PUBLISH_MS = 10_000;

/**
 * @example
 *   const store = new CheckpointedStore(SqliteAuditStore.open(), { privateKey, publicKey, witnesses: [new FileWitness({ dir, home })] });
 *   const sink = new DurableAuditSink(store);
 */
export class CheckpointedStore implements AuditStore {
  readonly logId: string;
  readonly #inner: AuditStore;
  readonly #options: CheckpointingOptions;
  readonly #everyRecords: number;
  readonly #everyMs: number;
  readonly #publishMs: number;
  /** The newest head this process appended. */
  #appended: ChainHead | null = null;
  /** Records appended since the last signature. */
  #unsigned = 0;
  /** The last checkpoint this process knows to be in the log (read back, or signed here). */
  #known: Checkpoint | null = null;
  #started: Promise<void> | null = null;
  /** Set when the log was found shortened or rewritten: every later append is refused with it. */
  #refusal: AirlockError | null = null;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  /** How many checkpoints were asked for: one asked while another is published is signed after it. */
  #asked = 0;
  #publishFailure: AirlockError | null = null;

  constructor(inner: AuditStore, options: CheckpointingOptions) {
    if (options.witnesses.length === 0) throw new AirlockError('INVALID_REQUEST', 'audit checkpoints need at least one witness');
    this.#inner = inner;
    this.logId = inner.logId;
    this.#options = options;
    this.#everyRecords = options.everyRecords ?? DEFAULT_EVERY_RECORDS;
    this.#everyMs = options.everyMs ?? DEFAULT_EVERY_MS;
    this.#publishMs = options.publishMs ?? DEFAULT_PUBLISH_MS;
  }

  async append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]> {
    await (this.#started ??= this.#readBack());
    if (this.#refusal !== null) throw this.#refusal;
    const records = await this.#inner.append(events);
    const last = records[records.length - 1];
    if (last === undefined) return records;
    const before = this.#appended;
    if (before !== null && last.seq <= before.seq) {
      // The store numbers appends from its head, which only moves forward: a later append of ours
      // with a lower seq means the head was moved back under us (a deleted tail).
      this.#refusal = new AirlockError('AUDIT_TRUNCATED', `the audit log ${this.logId} went back from seq ${before.seq} to ${last.seq - records.length}: its tail was deleted under this host. airlock will not extend it further; run \`airlock audit verify\` and restore the log`, { seq: last.seq });
      return records;
    }
    this.#appended = { seq: last.seq, hash: last.hash };
    this.#unsigned += records.length;
    if (this.#unsigned >= this.#everyRecords) this.#checkpoint();
    else this.#timer ??= setTimeout(() => this.#checkpoint(), this.#everyMs).unref();
    return records;
  }

  query(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#inner.query(query);
  }

  readChain<T>(fn: (reader: ChainReader) => Promise<T>): Promise<T> {
    return this.#inner.readChain(fn);
  }

  async sync(): Promise<void> {
    await this.#inner.sync?.();
  }

  /** Signs the last head appended here (if not yet signed), waits for every witness, closes the store. */
  async close(): Promise<void> {
    try {
      if (this.#appended !== null && this.#appended.seq !== this.#known?.seq) this.#checkpoint();
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      await this.#inFlight;
    } finally {
      await this.#inner.close();
    }
    if (this.#publishFailure !== null) throw this.#publishFailure;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Reads the first witness's latest checkpoint and checks the log still holds it. */
  async #readBack(): Promise<void> {
    const witness = this.#options.witnesses[0];
    const cp = witness === undefined ? null : await witness.latest(this.logId);
    if (cp === null || witness === undefined) return;
    const problem = checkpointProblem(cp, this.logId, [this.#options.publicKey]);
    if (problem !== null) {
      throw new AirlockError('AUDIT_CHECKPOINT_INVALID', `the latest checkpoint in ${witness.name} is not usable: ${problem}. airlock will not extend a log it can't check; investigate, then move the witness file aside if the log was replaced on purpose`, { witness: witness.name });
    }
    const refusal = await this.#contradiction(cp);
    if (refusal !== null) throw refusal;
    this.#known = cp;
  }

  /** Why the log no longer holds checkpoint `cp`, or null when it does. */
  async #contradiction(cp: Checkpoint): Promise<AirlockError | null> {
    const [record] = await this.#inner.query({ seq: cp.seq, limit: 1 });
    const at = `the checkpoint signed at ${cp.at} (seq ${cp.seq})`;
    if (cp.seq === 0) return null;
    if (record === undefined) {
      return new AirlockError('AUDIT_TRUNCATED', `the audit log ${this.logId} no longer has record ${cp.seq}, which ${at} covers: its tail was deleted. airlock will not extend it; run \`airlock audit verify\` and restore the log`, { seq: cp.seq });
    }
    if (record.hash !== cp.hash) {
      return new AirlockError('AUDIT_CHAIN_BROKEN', `record ${cp.seq} of the audit log ${this.logId} differs from ${at}: the chain was rewritten. airlock will not extend it; run \`airlock audit verify\` and restore the log`, { seq: cp.seq });
    }
    return null;
  }

  /**
   * Asks for the head appended last to be signed and published. One publication at a time: asked
   * again meanwhile, the newest head is signed once the current one is out, so a slow witness
   * makes checkpoints rarer, never a queue.
   */
  #checkpoint(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#unsigned = 0;
    this.#asked += 1;
    this.#inFlight ??= this.#drain();
  }

  async #drain(): Promise<void> {
    let done: number;
    do {
      done = this.#asked;
      await this.#signAndPublish();
    } while (this.#asked !== done);
    this.#inFlight = null;
  }

  async #signAndPublish(): Promise<void> {
    const head = this.#appended;
    if (head === null || this.#refusal !== null || head.seq === this.#known?.seq) return;
    try {
      const known = this.#known;
      const refusal = known === null ? null : await this.#contradiction(known);
      if (refusal !== null) {
        this.#refusal = refusal;
        return;
      }
      // A 'batched' store's records may not be on disk yet: sign only what a power loss can't take.
      await this.#inner.sync?.();
      const cp = signCheckpoint(this.#options.privateKey, this.logId, head, (this.#options.now ?? (() => new Date()))());
      // Every witness at once, each given at most publishMs: a slow or hung hook neither delays
      // the file witness nor holds close() forever.
      const outcomes = await Promise.all(this.#options.witnesses.map((witness) => this.#publishTo(witness, cp)));
      this.#known = cp;
      this.#publishFailure = outcomes.find((o) => o !== null) ?? null;
    } catch (error) {
      this.#publishFailure = toAirlockError(error, 'AUDIT_UNAVAILABLE');
    }
  }

  /** Publishes `cp` to one witness; the failure (or a publishMs timeout) as a coded error, else null. */
  async #publishTo(witness: CheckpointWitness, cp: Checkpoint): Promise<AirlockError | null> {
    const failed = (why: string): AirlockError => new AirlockError('AUDIT_UNAVAILABLE', `the checkpoint at seq ${cp.seq} did not reach the witness ${witness.name}: ${why}`, { witness: witness.name });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<AirlockError>((resolve) => {
      timer = setTimeout(() => resolve(failed(`no answer within ${this.#publishMs} ms`)), this.#publishMs).unref();
    });
    const published = witness.publish(cp).then(
      () => null,
      (error: unknown) => failed(toAirlockError(error, 'AUDIT_UNAVAILABLE').message),
    );
    try {
      return await Promise.race([published, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
