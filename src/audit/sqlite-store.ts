/**
 * The embedded audit store: SQLite through node:sqlite, at $AIRLOCK_HOME/audit.db by default.
 *
 * Durability (wal-sync.ts): WAL, commits with synchronous=NORMAL (written to the WAL, no fsync on
 * this thread), then an fdatasync of the WAL on the thread pool that every commit made meanwhile
 * shares. 'durable' (the default): an append resolves only after that fdatasync, so its events
 * survive a power loss. 'batched': it resolves once committed (the OS holds the events: a crash of
 * airlock loses nothing) and the fdatasync follows within flushMs; a power loss loses at most that.
 * One transaction per append.
 *
 * An existing file is never recreated or rewritten: it is checked (SQLite header, size, our
 * application id, schema, the pages an append reads; sqlite-file.ts) before anything writes to it,
 * and a new database is built under a temporary name and hard-linked into place, which fails rather
 * than overwrite. The whole-file check (`PRAGMA quick_check`) is `airlock audit verify`'s, not
 * every open's: it reads every page.
 *
 * Limit: node:sqlite is synchronous, so a commit blocks this thread (about 0.1 ms here without its
 * fsync; a WAL checkpoint, every 1000 pages, about 1 ms more).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { toRecord, type AuditRecord } from './chain.ts';
import { SqliteAppender } from './sqlite-append.ts';
import type { AuditEvent } from './event.ts';
import { checkFile, closed, corrupt, createFile, fullCheck, openChecked, readHead, selectRows, storeError, wrap } from './sqlite-file.ts';
import { WalSync, type AuditDurability, type WalSyncOptions } from './wal-sync.ts';
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
  readonly #sync: WalSync;

  private constructor(path: string, db: DatabaseSync, sync: WalSync) {
    this.path = path;
    // Named by where it was configured, not by what that resolves to: swapping audit.db for a
    // symlink to another file must not make the log look like one with no checkpoints.
    this.logId = `sqlite:${path}`;
    this.#db = db;
    this.#appender = new SqliteAppender(db, path);
    this.#sync = sync;
  }

  /** 'durable' or 'batched': when an append resolves (see the top of this file). */
  get durability(): AuditDurability {
    return this.#sync.durability;
  }

  /**
   * Opens (creating when absent) the log at `path`, default $AIRLOCK_HOME/audit.db; the directory
   * is created with mode 0700. Throws AUDIT_CORRUPT for a damaged or foreign file, leaving it as it is.
   * `durability` and `flushMs`: see the top of this file (default 'durable').
   */
  static open(options: { path?: string; env?: NodeJS.ProcessEnv } & WalSyncOptions = {}): SqliteAuditStore {
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
    const db = openChecked(path, { readOnly: false });
    let sync: WalSync;
    try {
      // The connection has read the log, so SQLite has opened (or made) its WAL file by now, named
      // after the file SQLite opened: a symlinked audit.db has its WAL beside the link's target.
      sync = new WalSync(`${db.location() ?? path}-wal`, options);
    } catch (error) {
      db.close();
      throw storeError(error, path, 'opening its write-ahead log');
    }
    return new SqliteAuditStore(path, db, sync);
  }

  /** Appends in one transaction, then waits for the WAL's fdatasync as `durability` says. */
  async append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]> {
    const appender = this.#appender;
    if (appender === null) throw closed(this.path);
    this.#sync.check();
    const records = await wrap(this.path, 'appending', () => appender.append(events).map(toRecord));
    if (records.length > 0) await this.#sync.committed();
    return records;
  }

  /** Resolves once every append so far is on disk (what a 'batched' append did not wait for). */
  async sync(): Promise<void> {
    if (this.#db === null) throw closed(this.path);
    await this.#sync.syncAll();
  }

  /**
   * SQLite's check of every page and index of the file (`PRAGMA quick_check`): what `airlock
   * audit verify` runs besides the chain walk. Null when sound, else what SQLite found.
   */
  check(): Promise<string | null> {
    return this.#run('checking the whole file', (db) => fullCheck(db));
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

  /** Flushes what is committed but not yet synced ('batched'), then closes. */
  async close(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    this.#appender = null;
    if (db === null) return;
    try {
      await this.#sync.close();
    } catch (error) {
      throw storeError(error, this.path, 'closing');
    } finally {
      db.close();
    }
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

