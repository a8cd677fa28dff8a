/**
 * Hands each sandbox (and each isolate worker) its own unprivileged host uid, so two tenants never
 * share one. A uid is in use while `<stateDir>/<uid>.lock` exists; the lock is made with O_EXCL, so
 * two host processes can never both hold it. A lock names its owner (pid and the process's start
 * time, so a recycled pid is not mistaken for the owner); a lock whose owner is gone is reclaimed.
 */
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { AirlockError } from '../core/errors.ts';
import { accountFilesStamp, checkUidRange, sandboxUids } from './uid-range.ts';

/**
 * Host-wide state both tiers share: one lock directory and one uid range (sandboxUids(): the
 * default, or AIRLOCK_UIDS), so an isolate worker and a container sandbox can never be handed the
 * same uid, whatever AIRLOCK_HOME each host uses.
 */
export const RUN_DIR = '/run/airlock';
export { sandboxUids };

export interface UidLease {
  readonly uid: number;
  readonly gid: number;
  release(): Promise<void>;
}

/** The start time of a process in clock ticks since boot, or undefined when it does not exist. */
async function startTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the parenthesised command name (which may itself hold spaces).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether any process on the host runs as `uid` (a /proc/<pid> directory is owned by its euid). */
export async function uidHasProcesses(uid: number): Promise<boolean> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  const owners = await Promise.all(pids.map((p) => stat(`/proc/${p}`).then((st) => st.uid, () => -1)));
  return owners.includes(uid);
}

async function ownerAlive(text: string): Promise<boolean> {
  const [pid, started] = text.trim().split(' ');
  if (pid === undefined || started === undefined || !/^\d+$/.test(pid)) return false;
  return (await startTime(Number(pid))) === started;
}

/**
 * Renames a dead owner's lock aside under a name unique to us (atomic: of two takers one wins),
 * and gives it back when what was moved turns out to be a live lock that replaced the dead one
 * between the read and the rename. Returns the aside path, or null when nothing was taken.
 * The uid allocator and the reaper both take locks this way.
 */
export async function moveLockAside(path: string, read: string, tag: 'reclaim' | 'reap', isLive: (text: string) => boolean | Promise<boolean>): Promise<string | null> {
  const aside = `${path}.${tag}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    await rename(path, aside);
  } catch {
    return null;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== read && (await isLive(moved))) {
    await rename(aside, path).catch(() => undefined);
    return null;
  }
  return aside;
}

/**
 * @example
 *   const uids = new UidAllocator({ stateDir: `${home}/uids`, first: 200000, count: 10000 });
 *   const lease = await uids.acquire(); … await lease.release();
 */
export class UidAllocator {
  readonly #stateDir: string;
  readonly #first: number;
  readonly #count: number;
  readonly #etc: string;
  #next = 0;
  /** The range's check against the host's account files, for the files as they were (their stamp). */
  #checked: { readonly stamp: string; readonly done: Promise<void> } | undefined;

  constructor(options: { stateDir: string; first: number; count: number; etc?: string }) {
    const { first, count } = options;
    if (!Number.isInteger(first) || !Number.isInteger(count) || first < 1000 || count < 1 || first + count > 2 ** 31) {
      throw new AirlockError('INTERNAL', `bad uid range ${first}+${count}: use unprivileged uids (>= 1000) below 2^31`);
    }
    this.#stateDir = options.stateDir;
    this.#first = first;
    this.#count = count;
    this.#etc = options.etc ?? '/etc';
    // Start somewhere different in each process, so concurrent hosts rarely contend for one lock.
    this.#next = process.pid % count;
  }

  #lockPath(uid: number): string {
    return `${this.#stateDir}/${uid}.lock`;
  }

  /**
   * Takes the next free uid (gid = uid). Throws UID_RANGE_IN_USE when a user, group or
   * subordinate id block on this host overlaps the range (checked each time the account files
   * change), SANDBOX_UNAVAILABLE when it is exhausted.
   */
  async acquire(): Promise<UidLease> {
    await this.#checkRange();
    await mkdir(this.#stateDir, { recursive: true, mode: 0o700 });
    const me = `${process.pid} ${(await startTime(process.pid)) ?? '0'}\n`;
    for (let tried = 0; tried < this.#count; tried++) {
      const uid = this.#first + ((this.#next + tried) % this.#count);
      if (await this.#tryLock(uid, me)) {
        this.#next = (this.#next + tried + 1) % this.#count;
        const path = this.#lockPath(uid);
        let released = false;
        return {
          uid,
          gid: uid,
          release: async () => {
            if (released) return;
            released = true;
            await unlink(path).catch(() => undefined);
          },
        };
      }
    }
    throw new AirlockError('SANDBOX_UNAVAILABLE', `all ${this.#count} sandbox uids from ${this.#first} are in use: destroy sandboxes or widen the uid range`);
  }

  /**
   * Checks the range before a uid goes out, again whenever an account file changed since (a user
   * added while airlock runs gets a subordinate block too). A failed check is not remembered.
   */
  async #checkRange(): Promise<void> {
    const stamp = await accountFilesStamp(this.#etc);
    if (this.#checked?.stamp !== stamp) this.#checked = { stamp, done: checkUidRange({ first: this.#first, count: this.#count }, this.#etc) };
    const checked = this.#checked;
    await checked.done.catch((error: unknown) => {
      if (this.#checked === checked) this.#checked = undefined;
      throw error;
    });
  }

  async #tryLock(uid: number, me: string): Promise<boolean> {
    const path = this.#lockPath(uid);
    let reclaimed = false;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o600);
        await fh.writeFile(me);
        await fh.close();
        // A dead owner's uid may still have processes (a crashed host's orphans): handing it out
        // would let a new sandbox share a uid with them. Leave it to the reaper, which kills first.
        if (reclaimed && (await uidHasProcesses(uid))) {
          await unlink(path).catch(() => undefined);
          return false;
        }
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (!(await this.#reclaim(path))) return false;
      reclaimed = true;
    }
    return false;
  }

  /**
   * Removes a lock whose owner is dead. The lock is first renamed to a name unique to us (atomic),
   * so of two reclaimers only one wins, and a fresh lock taken meanwhile is never deleted blindly.
   */
  async #reclaim(path: string): Promise<boolean> {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    // A lock being written right now may still be empty: leave it alone.
    if (text === undefined || text === '' || (await ownerAlive(text))) return false;
    const aside = await moveLockAside(path, text, 'reclaim', ownerAlive);
    if (aside === null) return false;
    await unlink(aside).catch(() => undefined);
    return true;
  }

  /** Uids whose lock is held now (for tests and the reaper). */
  async held(): Promise<number[]> {
    const names = await readdir(this.#stateDir).catch(() => [] as string[]);
    return names.filter((n) => /^\d+\.lock$/.test(n)).map((n) => Number(n.slice(0, -5))).sort((a, b) => a - b);
  }
}
