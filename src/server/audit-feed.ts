/**
 * The audit store the server writes through, which also tells listeners of each record once it is
 * durable (the store's append has resolved, so it has its seq and hash). This is how a live view
 * follows the log without polling: what it hears is exactly what a query would read afterwards.
 * A listener hears every tenant's records; the reader filters by tenant (routes/run-events.ts).
 *
 * @example
 *   const store = new AuditFeed(SqliteAuditStore.open({ path }));
 *   const stop = store.listen((records) => { ... }, () => endStream());   // later: stop()
 */
import type { AuditRecord } from '../audit/chain.ts';
import type { AuditEvent } from '../audit/event.ts';
import type { AuditQuery, AuditStore, ChainReader } from '../audit/store.ts';

export type FeedListener = (records: readonly AuditRecord[]) => void;

export class AuditFeed implements AuditStore {
  readonly #inner: AuditStore;
  readonly #listeners = new Map<FeedListener, () => void>();

  constructor(inner: AuditStore) {
    this.#inner = inner;
  }

  get logId(): string {
    return this.#inner.logId;
  }

  async append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]> {
    const records = await this.#inner.append(events);
    for (const listener of this.#listeners.keys()) listener(records);
    return records;
  }

  query(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#inner.query(query);
  }

  readChain<T>(fn: (reader: ChainReader) => Promise<T>): Promise<T> {
    return this.#inner.readChain(fn);
  }

  /**
   * Hears every record appended from now on, in seq order, until the returned function is called
   * or the server stops listening (`ended` is then called: a stream ends, and a draining server
   * is not held open by clients that would follow it forever).
   */
  listen(listener: FeedListener, ended: () => void): () => void {
    this.#listeners.set(listener, ended);
    return () => this.#listeners.delete(listener);
  }

  /** Ends every listener (the server is stopping). */
  endListeners(): void {
    const ended = [...this.#listeners.values()];
    this.#listeners.clear();
    for (const end of ended) end();
  }

  close(): Promise<void> {
    this.endListeners();
    return this.#inner.close();
  }
}
