import type { AuditEvent, AuditEventBody, AuditSink } from './event.ts';

/** Keeps events in memory, in order: for tests and for the library's default. */
export class MemoryAuditSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  readonly #now: () => Date;

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  append(event: AuditEventBody): void {
    this.events.push({ ...event, v: 1, at: this.#now().toISOString() });
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
