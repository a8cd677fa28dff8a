/**
 * The registry of live sandboxes, runs in flight and host processes: SQLite through node:sqlite at
 * /run/airlock/registry-v2.db, shared by every airlock host on the machine.
 *
 * Why /run/airlock and not $AIRLOCK_HOME: what it tracks is machine-wide — the uid range, the
 * cgroups and the workspace mounts are shared by every host whatever its home (src/os/uids.ts) —
 * so a host must find what a crashed host left even when that host used another home. /run is
 * usually a tmpfs emptied at boot, exactly when every process, cgroup and mount it names is gone
 * too. Where it is not (this project's test machines keep /run on the root ext4), a row that
 * outlives a reboot still names its owner by pid and start time (ticks since boot), which a new
 * process matches only by coincidence, so it is an orphan and is reaped. Commits are synchronous=NORMAL (no fsync): a power loss can forget
 * the runs that were in flight, whose resources vanish with it.
 *
 * Each row names its owner (pid and start time). A row whose owner is dead is an orphan: the
 * reaper adopts it (the owner becomes the reaper, so a reaper that dies half-way leaves rows the
 * next one adopts), removes what it names, records that, and deletes it. Quota checks run inside
 * the same write transaction as the insert (BEGIN IMMEDIATE), so they hold across processes.
 */
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { AirlockError } from '../core/errors.ts';
import type { Tier } from '../core/result.ts';
import { assertTrustedDir } from '../os/trusted-dir.ts';
import { RUN_DIR } from '../os/uids.ts';
import { ownerAlive, selfOwner, type Owner } from './owner.ts';

const BUSY_MS = 10_000;

/**
 * The registry's file in its directory. Version 2: tables WITHOUT ROWID (one b-tree each instead of
 * a table and its primary-key index) and 1 KiB pages, which halves the pages a run's rows touch and
 * quarters the bytes each commit writes and checksums. A host of the earlier layout used
 * registry.db: hosts of both layouts on one machine would not see each other's rows.
 */
export const REGISTRY_FILE = 'registry-v2.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hosts (instance TEXT PRIMARY KEY, home TEXT NOT NULL, pid INTEGER NOT NULL, start TEXT NOT NULL, since_ms INTEGER NOT NULL) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sandboxes (id TEXT PRIMARY KEY, home TEXT NOT NULL, tenant TEXT NOT NULL, tier TEXT NOT NULL, memory_mib INTEGER NOT NULL, pid INTEGER NOT NULL, start TEXT NOT NULL, since_ms INTEGER NOT NULL) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sandboxes_tenant ON sandboxes (home, tenant);
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, home TEXT NOT NULL, tenant TEXT NOT NULL, sandbox TEXT NOT NULL, pid INTEGER NOT NULL, start TEXT NOT NULL, started TEXT NOT NULL) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rates (home TEXT NOT NULL, tenant TEXT NOT NULL, tokens REAL NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (home, tenant)) STRICT, WITHOUT ROWID;
`;

export interface HostRow {
  readonly instance: string;
  readonly home: string;
  readonly owner: Owner;
}

export interface SandboxRow {
  readonly id: string;
  readonly home: string;
  readonly tenant: string;
  readonly tier: Tier;
  readonly memoryMiB: number;
  readonly owner: Owner;
}

export interface RunRow {
  readonly id: string;
  readonly home: string;
  readonly tenant: string;
  readonly sandbox: string;
  readonly owner: Owner;
  /** JSON of the run.started audit event body, so the reaper can record a run that never ended. */
  readonly started: string;
}

/** What a tenant holds now, in one home, counting only rows whose owner is alive. */
export interface TenantUsage {
  readonly sandboxes: number;
  readonly memoryMiB: number;
}

/** A token bucket for runs per minute. */
export interface Bucket {
  readonly tokens: number;
  readonly atMs: number;
}

export interface Orphans {
  readonly hosts: readonly HostRow[];
  readonly sandboxes: readonly SandboxRow[];
  readonly runs: readonly RunRow[];
}

type Row = Record<string, unknown>;

const str = (row: Row, key: string): string => String(row[key]);
const ownerOf = (row: Row): Owner => ({ pid: Number(row['pid']), start: str(row, 'start') });

function unavailable(path: string, error: unknown): AirlockError {
  if (error instanceof AirlockError) return error;
  const e = error as { errcode?: unknown; message?: unknown };
  const primary = typeof e.errcode === 'number' ? e.errcode & 0xff : -1;
  const why = String(e.message);
  // SQLITE_CORRUPT 11, SQLITE_NOTADB 26: refuse (fail closed) rather than count quotas from zero.
  if (primary === 11 || primary === 26) {
    return new AirlockError('SANDBOX_UNAVAILABLE', `the sandbox registry ${path} is damaged (${why}): stop every airlock host on this machine, then remove it`);
  }
  return new AirlockError('SANDBOX_UNAVAILABLE', `the sandbox registry ${path} can't be used (${why}): run airlock as root, and check that ${path} is writable`);
}

/**
 * @example
 *   const registry = Registry.open();
 *   registry.admitSandbox({ id, home, tenant: 'acme', tier: 'isolate', memoryMiB: 64 }, (usage) => quotas.check(usage));
 *   …
 *   registry.removeSandbox(id);
 */
export class Registry {
  readonly path: string;
  readonly self: Owner;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #now: () => number;

  private constructor(path: string, db: DatabaseSync, now: () => number) {
    this.path = path;
    this.#db = db;
    this.self = selfOwner();
    this.#now = now;
  }

  /** Opens (or creates) `<dir>/registry-v2.db`; dir defaults to /run/airlock. Throws SANDBOX_UNAVAILABLE. */
  static open(options: { readonly dir?: string; readonly now?: () => number } = {}): Registry {
    const dir = options.dir ?? RUN_DIR;
    const path = `${dir}/${REGISTRY_FILE}`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      assertTrustedDir(dir, 'the sandbox registry');
      // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
      closeSync(openSync(path, 'a', 0o600));
      const db = new DatabaseSync(path, { timeout: BUSY_MS });
      // page_size must be set before the first table exists, and WAL after it.
      db.exec('PRAGMA page_size = 1024');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec(SCHEMA);
      return new Registry(path, db, options.now ?? Date.now);
    } catch (error) {
      throw unavailable(path, error);
    }
  }

  /** Runs `fn` in one write transaction; rolls back when it throws. */
  #tx<T>(fn: () => T): T {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw unavailable(this.path, error);
    }
    try {
      const value = fn();
      this.#db.exec('COMMIT');
      return value;
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // The transaction is already gone; the original error is what matters.
      }
      throw error instanceof AirlockError ? error : unavailable(this.path, error);
    }
  }

  /** Statements are prepared once per registry: preparing is most of a small write's cost. */
  #statement(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  #run(sql: string, ...params: (string | number)[]): void {
    this.#statement(sql).run(...params);
  }

  #all(sql: string, ...params: (string | number)[]): Row[] {
    return this.#statement(sql).all(...params);
  }

  addHost(instance: string, home: string): void {
    this.#tx(() => this.#run('INSERT INTO hosts VALUES (?, ?, ?, ?, ?)', instance, home, this.self.pid, this.self.start, this.#now()));
  }

  removeHost(instance: string): void {
    this.#tx(() => this.#run('DELETE FROM hosts WHERE instance = ?', instance));
  }

  /**
   * Inserts a sandbox row after `check` accepted the tenant's current usage in this home; `check`
   * throws (a coded quota error) to refuse, and then nothing is inserted.
   */
  admitSandbox(row: Omit<SandboxRow, 'owner'>, check: (usage: TenantUsage) => void): void {
    this.#tx(() => this.#admit(row, check));
  }

  #admit(row: Omit<SandboxRow, 'owner'>, check: (usage: TenantUsage) => void): void {
    const rows = this.#all('SELECT memory_mib, pid, start FROM sandboxes WHERE home = ? AND tenant = ?', row.home, row.tenant);
    // This process is alive: its own rows (most of them, on a busy host) need no look at /proc.
    const alive = new Map<string, boolean>([[`${this.self.pid} ${this.self.start}`, true]]);
    let sandboxes = 0;
    let memoryMiB = 0;
    for (const r of rows) {
      const owner = ownerOf(r);
      const key = `${owner.pid} ${owner.start}`;
      if (!alive.has(key)) alive.set(key, ownerAlive(owner));
      if (alive.get(key) !== true) continue;
      sandboxes += 1;
      memoryMiB += Number(r['memory_mib']);
    }
    check({ sandboxes, memoryMiB });
    this.#run('INSERT INTO sandboxes VALUES (?, ?, ?, ?, ?, ?, ?, ?)', row.id, row.home, row.tenant, row.tier, row.memoryMiB, this.self.pid, this.self.start, this.#now());
  }

  removeSandbox(id: string): void {
    this.#tx(() => this.#run('DELETE FROM sandboxes WHERE id = ?', id));
  }

  /**
   * Records a run in flight after `take` accepted the tenant's bucket (null when it has none yet)
   * and returned it with one token spent; `take` throws to refuse.
   */
  beginRun(row: Omit<RunRow, 'owner'>, take: (bucket: Bucket | null, nowMs: number) => Bucket): void {
    this.#tx(() => this.#begin(row, take));
  }

  #begin(row: Omit<RunRow, 'owner'>, take: (bucket: Bucket | null, nowMs: number) => Bucket): void {
    const [found] = this.#all('SELECT tokens, at_ms FROM rates WHERE home = ? AND tenant = ?', row.home, row.tenant);
    const bucket = found === undefined ? null : { tokens: Number(found['tokens']), atMs: Number(found['at_ms']) };
    const now = this.#now();
    // A bucket untouched for a minute is full again: its row says no more than no row. Dropped when
    // a new one is made, so the table holds the tenants of the last minutes, not every one ever seen.
    if (found === undefined) this.#run('DELETE FROM rates WHERE at_ms < ?', now - 2 * 60_000);
    const next = take(bucket, now);
    this.#run('INSERT OR REPLACE INTO rates VALUES (?, ?, ?, ?)', row.home, row.tenant, next.tokens, next.atMs);
    this.#run('INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)', row.id, row.home, row.tenant, row.sandbox, this.self.pid, this.self.start, row.started);
  }

  endRun(id: string): void {
    this.#tx(() => this.#run('DELETE FROM runs WHERE id = ?', id));
  }

  /** A one-shot run's sandbox and run rows, admitted together: one transaction, both checks. */
  admitOneShot(sandbox: Omit<SandboxRow, 'owner'>, check: (usage: TenantUsage) => void, run: Omit<RunRow, 'owner'>, take: (bucket: Bucket | null, nowMs: number) => Bucket): void {
    this.#tx(() => {
      this.#admit(sandbox, check);
      this.#begin(run, take);
    });
  }

  /** Ends a one-shot run and its sandbox in one transaction. */
  endOneShot(run: string, sandbox: string): void {
    this.#tx(() => {
      this.#run('DELETE FROM runs WHERE id = ?', run);
      this.#run('DELETE FROM sandboxes WHERE id = ?', sandbox);
    });
  }

  /** The owner of a sandbox row in any home, or undefined when no row names it. */
  sandboxOwner(id: string): Owner | undefined {
    const [row] = this.#all('SELECT pid, start FROM sandboxes WHERE id = ?', id);
    return row === undefined ? undefined : ownerOf(row);
  }

  /** Sandbox rows of a tenant in a home (for tests and tenancy checks). */
  sandboxesOf(home: string, tenant: string): SandboxRow[] {
    return this.#all('SELECT * FROM sandboxes WHERE home = ? AND tenant = ? ORDER BY since_ms', home, tenant).map((r) => this.#sandboxRow(r));
  }

  #sandboxRow(r: Row): SandboxRow {
    return { id: str(r, 'id'), home: str(r, 'home'), tenant: str(r, 'tenant'), tier: str(r, 'tier') as Tier, memoryMiB: Number(r['memory_mib']), owner: ownerOf(r) };
  }

  /** Every host row, in any home, alive or not (for attributing isolate workers to a home). */
  hosts(): HostRow[] {
    return this.#all('SELECT instance, home, pid, start FROM hosts').map((r) => ({ instance: str(r, 'instance'), home: str(r, 'home'), owner: ownerOf(r) }));
  }

  /**
   * Takes over every row of `home` whose owner is dead: they become this process's, so no other
   * reaper handles them too. The caller removes what they name, then deletes them.
   */
  adoptOrphans(home: string): Orphans {
    return this.#tx(() => {
      const dead = (table: string): Row[] => this.#all(`SELECT * FROM ${table} WHERE home = ?`, home).filter((r) => !ownerAlive(ownerOf(r)));
      const hosts = dead('hosts').map((r) => ({ instance: str(r, 'instance'), home, owner: ownerOf(r) }));
      const sandboxes = dead('sandboxes').map((r) => this.#sandboxRow(r));
      const runs = dead('runs').map((r) => ({ id: str(r, 'id'), home, tenant: str(r, 'tenant'), sandbox: str(r, 'sandbox'), owner: ownerOf(r), started: str(r, 'started') }));
      const me = [this.self.pid, this.self.start] as const;
      for (const h of hosts) this.#run('UPDATE hosts SET pid = ?, start = ? WHERE instance = ?', ...me, h.instance);
      for (const s of sandboxes) this.#run('UPDATE sandboxes SET pid = ?, start = ? WHERE id = ?', ...me, s.id);
      for (const r of runs) this.#run('UPDATE runs SET pid = ?, start = ? WHERE id = ?', ...me, r.id);
      return { hosts, sandboxes, runs };
    });
  }

  close(): void {
    try {
      this.#db.close();
    } catch {
      // Already closed.
    }
  }
}
