/**
 * One append transaction on the audit database: take the write lock, read the chain's head, seal
 * the events after it, insert them and move the head, commit (one fsync: WAL, synchronous=FULL).
 * Statements are prepared once per connection.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { checkEvent, sealBatch, type StoredRow } from './chain.ts';
import type { AuditEvent } from './event.ts';
import { readHead } from './sqlite-file.ts';
import { COLUMNS, isTenantId } from './store.ts';

export class SqliteAppender {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #insert: StatementSync;
  readonly #head: StatementSync;

  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
    this.#insert = db.prepare(`INSERT INTO audit_events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#head = db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1');
  }

  append(events: readonly AuditEvent[]): StoredRow[] {
    for (const event of events) checkEvent(event, isTenantId);
    if (events.length === 0) return [];
    const db = this.#db;
    // IMMEDIATE takes the write lock before reading the head: appends from other processes
    // on this file wait (busy timeout) instead of forking the chain.
    db.exec('BEGIN IMMEDIATE');
    try {
      const rows = sealBatch(readHead(db, this.#path), events);
      for (const r of rows) this.#insert.run(r.seq, r.prevHash, r.hash, r.at, r.tenant, r.sandbox, r.run, r.kind, r.status, r.decision, r.event);
      const last = rows[rows.length - 1];
      if (last !== undefined) this.#head.run(last.seq, last.hash);
      db.exec('COMMIT');
      return rows;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
}
