/**
 * When the SQLite audit log's commits reach the disk. Commits run with synchronous=NORMAL: each is
 * written into the write-ahead log (the OS holds it from then on, so a crash or SIGKILL of airlock
 * loses nothing) without an fsync of its own. This class then fdatasyncs the WAL file, on libuv's
 * thread pool so the event loop goes on meanwhile, and one fdatasync covers every commit written
 * before it started: concurrent runs share one device flush (group commit).
 *
 * - 'durable': `committed()` resolves after the first fdatasync that started after that commit.
 *   A commit made while an fdatasync is under way waits for the next one, which starts as soon as
 *   the current one ends and covers every commit made meanwhile; never for any later one.
 * - 'batched': `committed()` resolves at once, and an fdatasync follows within `flushMs`. A power
 *   loss can lose the commits of that window; a crash of airlock can't (they are in the OS).
 *
 * Why this is sound: SQLite's own synchronous=NORMAL in WAL mode never corrupts the log (it syncs
 * the WAL before each checkpoint and each WAL restart's header); it only leaves the newest commits
 * undurable until the WAL is synced, which is what the fdatasync here does. fsync is per file, so
 * syncing our own descriptor of the WAL flushes the frames SQLite wrote through its own.
 *
 * The WAL keeps SQLite's defaults (wal_autocheckpoint 1000 pages, journal_size_limit unset): it
 * keeps its size across checkpoints and is overwritten in place from then on, so a flush is of data
 * blocks only, with no size change to journal (fdatasync of 4 KiB here: 0.13 ms in place, 0.25 ms
 * appended). Preallocating it, or a larger autocheckpoint, measured no better within this machine's
 * noise.
 *
 * An fdatasync that fails (EIO) poisons this log: the OS may have dropped the dirty pages, so no
 * retry can prove them written. Every later commit and wait is refused with AUDIT_UNAVAILABLE.
 */
import { closeSync, constants, fdatasync, openSync } from 'node:fs';
import { AirlockError } from '../core/errors.ts';

/** 'durable': a result waits for its events' fsync. 'batched': fsynced within flushMs (see above). */
export type AuditDurability = 'durable' | 'batched';

export const AUDIT_DURABILITIES: readonly AuditDurability[] = ['durable', 'batched'];
/** Default longest time between a commit and its fdatasync in 'batched' mode. */
export const DEFAULT_FLUSH_MS = 5;
/** The largest flushMs accepted: beyond a second it is no longer "a few milliseconds". */
export const MAX_FLUSH_MS = 1000;

/** How the audit log reaches the disk (createAirlock's `audit: { durability, flushMs }`). */
export interface AuditDurabilitySettings {
  readonly durability?: AuditDurability;
  /** 'batched' only: the longest a commit waits for its fdatasync, in ms (1–1000, default 5). */
  readonly flushMs?: number;
}

export interface WalSyncOptions extends AuditDurabilitySettings {
  /** The device flush itself; replaced only to observe it (tests count and order the real one). */
  readonly fdatasync?: (fd: number) => Promise<void>;
}

function realFdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));
}

/**
 * @example
 *   const sync = new WalSync(`${path}-wal`, { durability: 'durable' });
 *   appender.append(events);      // COMMIT, synchronous=NORMAL
 *   await sync.committed();       // durable now (or AUDIT_UNAVAILABLE)
 */
export class WalSync {
  readonly durability: AuditDurability;
  readonly #walPath: string;
  readonly #flushMs: number;
  readonly #fdatasync: (fd: number) => Promise<void>;
  #fd: number | null;
  /** Commits made through this connection, and how many of them an fdatasync has covered. */
  #commits = 0;
  #synced = 0;
  #inFlight: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #failure: AirlockError | null = null;

  /** Opens the WAL file SQLite made (never creates one: the connection must have opened it). */
  constructor(walPath: string, options: WalSyncOptions = {}) {
    this.durability = options.durability ?? 'durable';
    this.#walPath = walPath;
    this.#flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.#fdatasync = options.fdatasync ?? realFdatasync;
    this.#fd = openSync(walPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  }

  /** Refuses with the sticky failure, if an fdatasync failed: call before committing. */
  check(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  /** Records one commit; resolves when it is as durable as the mode promises. */
  committed(): Promise<void> {
    const mine = (this.#commits += 1);
    if (this.durability === 'durable') return this.#syncTo(mine);
    // One timer for the window: commits made while it runs are covered by its fdatasync.
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      // A failure here is kept (#failure) and refuses the next commit: no run is waiting for it.
      void this.#syncTo(this.#commits).catch(() => undefined);
    }, this.#flushMs).unref();
    return Promise.resolve();
  }

  /** Resolves once every commit made so far is on disk (at once in 'durable' mode, where each waited). */
  syncAll(): Promise<void> {
    return this.#syncTo(this.#commits);
  }

  /** Syncs every commit made so far, then closes the descriptor. Call before closing the database. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      await this.#syncTo(this.#commits);
    } finally {
      if (this.#fd !== null) closeSync(this.#fd);
      this.#fd = null;
    }
  }

  async #syncTo(target: number): Promise<void> {
    while (this.#synced < target) {
      if (this.#failure !== null) throw this.#failure;
      this.#inFlight ??= this.#syncOnce().finally(() => (this.#inFlight = null));
      await this.#inFlight;
    }
  }

  async #syncOnce(): Promise<void> {
    const fd = this.#fd;
    if (fd === null) throw new AirlockError('AUDIT_UNAVAILABLE', `the audit log's write-ahead log ${this.#walPath} is closed: open the log again`);
    // Everything committed before this call is in the file's dirty pages, which this flushes.
    const covers = this.#commits;
    try {
      await this.#fdatasync(fd);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? String(error);
      this.#failure = new AirlockError('AUDIT_UNAVAILABLE', `the audit log's write-ahead log ${this.#walPath} could not be flushed to disk (${why}): events since its last flush may be lost, so airlock records nothing more in it. Check the disk, then restart airlock and run \`airlock audit verify\``, { path: this.#walPath });
      throw this.#failure;
    }
    if (covers > this.#synced) this.#synced = covers;
  }
}
