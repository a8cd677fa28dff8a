/**
 * The audit database file itself: creating it (never over an existing file), checking it before
 * anything writes to it, opening it in WAL with synchronous=NORMAL (wal-sync.ts makes commits
 * durable), and turning SQLite's failures into coded errors.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, openSync, readSync, statSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { AirlockError } from '../core/errors.ts';
import { linkIntoPlace } from './link-into-place.ts';
import { GENESIS_HASH, type ChainHead } from './chain.ts';
import { COLUMNS, rowFrom, type RawRow } from './store.ts';

/** 'ARLK': marks the file as an airlock audit log in the SQLite header (offset 68). */
export const APPLICATION_ID = 0x41524c4b;
export const SCHEMA_VERSION = 1;
const BUSY_MS = 10_000;

const SCHEMA = `
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL,
  tenant TEXT NOT NULL, sandbox TEXT NOT NULL, run TEXT, kind TEXT NOT NULL, status TEXT, decision TEXT,
  event TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_tenant ON audit_events (tenant, seq);
CREATE INDEX audit_events_sandbox ON audit_events (sandbox, seq);
CREATE INDEX audit_events_run ON audit_events (run, seq);
CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL) STRICT;
INSERT INTO audit_head VALUES (1, 0, '${GENESIS_HASH}');
-- Defence in depth: the chain detects tampering; these stop it through ordinary SQL.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head WHEN NEW.seq < OLD.seq BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN SELECT RAISE(ABORT, 'audit_head is permanent'); END;
`;

/** What went wrong, as a coded error that says what to do. Keeps AirlockErrors as they are. */
export function storeError(error: unknown, path: string, doing: string): AirlockError {
  if (error instanceof AirlockError) return error;
  const e = error as { errcode?: unknown; errstr?: unknown; code?: unknown; message?: unknown };
  const detail = typeof e.errstr === 'string' ? e.errstr : String(e.message);
  const primary = typeof e.errcode === 'number' ? e.errcode & 0xff : -1;
  // SQLITE_CORRUPT 11, SQLITE_NOTADB 26; CONSTRAINT 19 means rows exist that the head does not know of.
  if (primary === 11 || primary === 26 || primary === 19) {
    return new AirlockError('AUDIT_CORRUPT', `the audit database ${path} is damaged while ${doing} (${detail}); it was left as it is: run \`airlock audit verify\`, then restore it from a backup or move it aside`, { path });
  }
  return new AirlockError('AUDIT_UNAVAILABLE', `the audit log ${path} failed while ${doing} (${detail}): free disk space or fix its permissions and retry; nothing recorded before was lost`, { path });
}

export function corrupt(path: string, why: string): AirlockError {
  return new AirlockError('AUDIT_CORRUPT', `${path} is not a sound airlock audit database (${why}); it was left untouched: restore it from a backup, or move it aside to start a new log`, { path });
}

/** Reads the SQLite header and checks the file is whole and ours, without opening it in SQLite. */
export function checkFile(path: string, size: number): void {
  if (size < 100) throw corrupt(path, size === 0 ? 'the file is empty: truncated' : 'shorter than a SQLite header: truncated');
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw corrupt(path, 'no SQLite header');
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw corrupt(path, 'bad page size in the header');
  if (size % pageSize !== 0) throw corrupt(path, 'its size is not a whole number of pages: truncated');
  // The page count at offset 28 is valid when the change counter (24) matches offset 92, and only
  // for a file no one is checkpointing: another process's checkpoint writes page 1 (with the new
  // count) before the pages that extend the file, so while a WAL holds frames the count may run
  // ahead of the size. SQLite's own reads, under its locks, are the check then.
  const walFrames = (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 32;
  if (!walFrames && header.readUInt32BE(24) === header.readUInt32BE(92) && size < header.readUInt32BE(28) * pageSize) throw corrupt(path, 'shorter than its header says: truncated');
  if (header.readUInt32BE(68) !== APPLICATION_ID) throw corrupt(path, 'a SQLite database, but not an airlock audit log');
}

/** Builds a new log under a temporary name and links it into place; never replaces a file. */
export function createFile(path: string): void {
  const temp = `${path}.new-${process.pid}-${randomUUID()}`;
  const db = new DatabaseSync(temp);
  try {
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION};`);
    db.exec(`BEGIN; ${SCHEMA} COMMIT;`);
  } finally {
    db.close();
  }
  // Private to its owner (SQLite gives the -wal and -shm files the same mode).
  chmodSync(temp, 0o600);
  linkIntoPlace(temp, path);
}

/**
 * The pages an append reads, read once at open: the head row, and the right edge (root to last
 * leaf) of the events table and of each index. A damaged page there fails the open with SQLite's
 * own SQLITE_CORRUPT (AUDIT_CORRUPT); the rest of the file is `fullCheck`'s, run by `airlock audit
 * verify`. Bounded by the trees' depth, not the log's size.
 */
const EDGE_PROBES = [
  'SELECT seq, hash FROM audit_head WHERE id = 1',
  'SELECT seq, length(event) FROM audit_events ORDER BY seq DESC LIMIT 1',
  'SELECT tenant, seq FROM audit_events INDEXED BY audit_events_tenant ORDER BY tenant DESC, seq DESC LIMIT 1',
  'SELECT sandbox, seq FROM audit_events INDEXED BY audit_events_sandbox ORDER BY sandbox DESC, seq DESC LIMIT 1',
  'SELECT run, seq FROM audit_events INDEXED BY audit_events_run ORDER BY run DESC, seq DESC LIMIT 1',
];

/**
 * Opens a connection and checks, in time that does not grow with the log, that it is a sound
 * airlock audit log: WAL, schema version, application id, its tables and indexes, and the pages
 * an append reads (EDGE_PROBES). Whole-file damage elsewhere is reported by SQLite when a read
 * reaches it, and by `fullCheck` (`airlock audit verify`).
 */
export function openChecked(path: string, options: { readOnly: boolean }): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly: options.readOnly, timeout: BUSY_MS });
  try {
    const mode = db.prepare('PRAGMA journal_mode').get();
    if (mode?.['journal_mode'] !== 'wal') throw corrupt(path, 'not in WAL mode');
    if (!options.readOnly) db.exec('PRAGMA synchronous = NORMAL');
    const version = db.prepare('PRAGMA user_version').get();
    if (version?.['user_version'] !== SCHEMA_VERSION) throw corrupt(path, `schema version ${String(version?.['user_version'])}, expected ${SCHEMA_VERSION}`);
    if (db.prepare('PRAGMA application_id').get()?.['application_id'] !== APPLICATION_ID) throw corrupt(path, 'a SQLite database, but not an airlock audit log');
    const names = new Set(db.prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'index')").all().map((r) => r['name']));
    for (const name of ['audit_events', 'audit_head', 'audit_events_tenant', 'audit_events_sandbox', 'audit_events_run']) {
      if (!names.has(name)) throw corrupt(path, `its ${name.startsWith('audit_events_') ? 'index' : 'table'} ${name} is missing`);
    }
    db.exec('BEGIN');
    try {
      for (const probe of EDGE_PROBES) db.prepare(probe).all();
    } finally {
      db.exec('COMMIT');
    }
    return db;
  } catch (error) {
    db.close();
    throw storeError(error, path, 'opening');
  }
}

/** SQLite's check of every page, b-tree and index of the file; null when it finds nothing. */
export function fullCheck(db: DatabaseSync): string | null {
  const rows = db.prepare('PRAGMA quick_check').all();
  const first = rows[0]?.['quick_check'];
  return rows.length === 1 && first === 'ok' ? null : rows.map((r) => String(r['quick_check'])).join('; ');
}

export function closed(path: string): AirlockError {
  return new AirlockError('AUDIT_UNAVAILABLE', `the audit store ${path} is closed: open it again`);
}

export function wrap<T>(path: string, doing: string, fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(storeError(error, path, doing));
  }
}

export function readHead(db: DatabaseSync, path: string): ChainHead {
  const row = db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get();
  if (typeof row?.['seq'] !== 'number' || typeof row['hash'] !== 'string') throw corrupt(path, 'its head row is missing');
  return { seq: row['seq'], hash: row['hash'] };
}

export function selectRows(db: DatabaseSync, clause: string, params: SQLInputValue[]): ReturnType<typeof rowFrom>[] {
  return db.prepare(`SELECT ${COLUMNS} FROM audit_events ${clause}`).all(...params).map((r) => rowFrom(r as RawRow));
}
