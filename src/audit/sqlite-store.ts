/**
 * The embedded audit store: SQLite through node:sqlite, at $AIRLOCK_HOME/audit.db by default.
 *
 * Durability: WAL with synchronous=FULL, so every COMMIT fsyncs the WAL and an append is on disk
 * when it resolves, even across power loss. (NORMAL would defer the fsync to the next checkpoint:
 * a crash of the machine could then lose events whose runs had already returned.) One transaction
 * per append, so a flush of a run's events costs one fsync.
 *
 * An existing file is never recreated or rewritten: it is checked (SQLite header, size, our
 * application id, quick_check, schema) before anything writes to it, and a new database is built
 * under a temporary name and hard-linked into place, which fails rather than overwrite.
 *
 * Limit: node:sqlite is synchronous, so an append blocks this thread for one commit (about
 * 0.3–0.45 ms here, most of it the fsync). A writer thread was measured and was slower on this
 * machine: its two thread wake-ups cost more than the event loop gains.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { toRecord, type AuditRecord } from './chain.ts';
import { SqliteAppender } from './sqlite-append.ts';
import type { AuditEvent } from './event.ts';
import { checkFile, closed, corrupt, createFile, openChecked, readHead, selectRows, storeError, wrap } from './sqlite-file.ts';
import { queryClause, type AuditQuery, type AuditStore, type ChainReader } from './store.ts';

/** $AIRLOCK_HOME, or ~/.airlock. */
export function airlockHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['AIRLOCK_HOME'];
  return resolve(home !== undefined && home !== '' ? home : join(homedir(), '.airlock'));
}

/** Where the embedded audit log lives: $AIRLOCK_HOME/audit.db. */
export function defaultAuditPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(airlockHome(env), 'audit.db');
}

/**
 * The SQLite audit store.
 *
 * @example
 *   const store = SqliteAuditStore.open();            // $AIRLOCK_HOME/audit.db
 *   const sink = new DurableAuditSink(store);
 */
export class SqliteAuditStore implements AuditStore {
  readonly path: string;
  readonly logId: string;
  #db: DatabaseSync | null;
  #appender: SqliteAppender | null;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    // Named by where it was configured, not by what that resolves to: swapping audit.db for a
    // symlink to another file must not make the log look like one with no checkpoints.
    this.logId = `sqlite:${path}`;
    this.#db = db;
    this.#appender = new SqliteAppender(db, path);
  }

  /**
   * Opens (creating when absent) the log at `path`, default $AIRLOCK_HOME/audit.db; the directory
   * is created with mode 0700. Throws AUDIT_CORRUPT for a damaged or foreign file, leaving it as it is.
   */
  static open(options: { path?: string; env?: NodeJS.ProcessEnv } = {}): SqliteAuditStore {
    const path = resolve(options.path ?? defaultAuditPath(options.env));
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      if (statSync(path, { throwIfNoEntry: false }) === undefined) {
        // A WAL without its database means the log was deleted or moved: starting afresh here
        // would hide that, and SQLite could replay the old WAL into the new file.
        if (existsSync(`${path}-wal`)) throw corrupt(path, 'the file is missing but its write-ahead log is there: it was deleted or moved');
        createFile(path);
      }
      checkFile(path, statSync(path).size);
    } catch (error) {
      throw storeError(error, path, 'opening');
    }
    return new SqliteAuditStore(path, openChecked(path, { readOnly: false }));
  }

  /** Appends in one transaction: one fsync, on this thread (node:sqlite is synchronous). */
  append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]> {
    const appender = this.#appender;
    if (appender === null) return Promise.reject(closed(this.path));
    return wrap(this.path, 'appending', () => appender.append(events).map(toRecord));
  }

  query(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#run('querying', (db) => {
      const clause = queryClause(query, () => '?');
      return selectRows(db, clause.sql, clause.params).map(toRecord);
    });
  }

  async readChain<T>(fn: (reader: ChainReader) => Promise<T>): Promise<T> {
    if (this.#db === null) throw closed(this.path);
    // A second, read-only connection: its read transaction is a snapshot in WAL mode, and this
    // connection stays free for appends while the reader walks.
    const db = openChecked(this.path, { readOnly: true });
    try {
      db.exec('BEGIN');
      const reader: ChainReader = {
        head: () => wrap(this.path, 'reading the head', () => readHead(db, this.path)),
        rows: (afterSeq, limit) => wrap(this.path, 'reading the chain', () => selectRows(db, 'WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit])),
      };
      return await fn(reader);
    } finally {
      if (db.isTransaction) db.exec('COMMIT');
      db.close();
    }
  }

  close(): Promise<void> {
    this.#db?.close();
    this.#db = null;
    this.#appender = null;
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #run<T>(doing: string, fn: (db: DatabaseSync) => T): Promise<T> {
    const db = this.#db;
    if (db === null) return Promise.reject(closed(this.path));
    return wrap(this.path, doing, () => fn(db));
  }
}

