/**
 * The reaper's hands: the OS operations that remove what a crashed host left — processes of a
 * uid, workspace mounts and directories, uid locks. Each is idempotent and tolerates a thing that
 * is already gone, because two reapers (or a reaper and a late cleanup) may reach it together.
 */
import { execFile } from 'node:child_process';
import { open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AirlockError } from '../core/errors.ts';
import { moveLockAside } from '../os/uids.ts';
import { ownerAlive, parseOwner, type Owner } from './owner.ts';

const run = promisify(execFile);

/** A lock file that is still empty this long after it was made was left by a crash mid-write. */
const EMPTY_LOCK_GRACE_MS = 60_000;

/**
 * Processes whose real uid is `uid`, from /proc. Zombies are left out: they run nothing, SIGKILL
 * can't touch them, and they vanish when their (new) parent reaps them.
 */
export async function processesOfUid(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    if (/^State:\s+Z/m.test(status)) continue;
    if (/^Uid:\s+(\d+)/m.exec(status)?.[1] === String(uid)) pids.push(Number(name));
  }
  return pids;
}

/** SIGKILLs every process of `uid` until none is left; returns how many were killed. */
export async function killUid(uid: number): Promise<number> {
  if (!Number.isSafeInteger(uid) || uid < 1000) throw new AirlockError('INTERNAL', `refusing to kill the processes of uid ${uid}: only sandbox uids are reaped`);
  const killed = new Set<number>();
  for (let round = 0; round < 100; round++) {
    const pids = await processesOfUid(uid);
    if (pids.length === 0) return killed.size;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // Gone already.
      }
    }
    await sleep(Math.min(1 + round, 20));
  }
  throw new AirlockError('INTERNAL', `processes of uid ${uid} survive SIGKILL`);
}

/** Mount points at or under `dir` in this mount namespace, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info.split('\n').map((line) => (line.split(' ')[4] ?? '').replaceAll('\\040', ' '));
  return points.filter((p) => p === dir || p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/**
 * Unmounts everything under a sandbox directory, then removes it. Refuses to delete files while
 * anything is still mounted there, so a removal can never reach through a mount.
 */
export async function removeSandboxDir(dir: string): Promise<{ unmounted: string[]; removed: boolean }> {
  const unmounted: string[] = [];
  for (let round = 0; round < 3; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) break;
    for (const p of points) {
      try {
        await run('/usr/bin/umount', [p]);
      } catch {
        // Busy: a process we could not see still uses it. Detach it; the kernel frees it when idle.
        await run('/usr/bin/umount', ['-l', p]).catch(() => undefined);
      }
      unmounted.push(p);
    }
  }
  if ((await mountsUnder(dir)).length > 0) throw new AirlockError('INTERNAL', `${dir} still has mounts after umount: remove them by hand`);
  const existed = await stat(dir).then(() => true, () => false);
  await rm(dir, { recursive: true, force: true });
  return { unmounted, removed: existed };
}

/** The owner uid of a path, or undefined when it does not exist. */
export async function ownerUid(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.uid, () => undefined);
}

/** What a uid lock says: 'live' (owner runs, or still being written), 'dead', or 'absent'. */
export async function lockState(path: string, expectPid?: number): Promise<'live' | 'dead' | 'absent'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return 'absent';
  }
  const owner = parseOwner(text);
  if (owner === undefined) {
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    return text.trim() === '' && age < EMPTY_LOCK_GRACE_MS ? 'live' : 'dead';
  }
  if (expectPid !== undefined && owner.pid !== expectPid) return 'dead';
  return ownerAlive(owner) ? 'live' : 'dead';
}

/**
 * Takes a dead owner's uid lock over for `self`, the same way the uid allocator reclaims one: the
 * lock is renamed aside (atomic: one taker wins), re-checked, and re-made with O_EXCL as ours, so
 * no allocator hands the uid out while its leftover processes are killed. False when the lock is
 * live, gone, or was taken by someone else meanwhile.
 */
export async function adoptDeadLock(path: string, self: Owner): Promise<boolean> {
  if ((await lockState(path)) !== 'dead') return false;
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  const aside = await moveLockAside(path, text, 'reap', (moved) => {
    const owner = parseOwner(moved);
    return owner !== undefined && ownerAlive(owner);
  });
  if (aside === null) return false;
  try {
    const fh = await open(path, 'wx', 0o600);
    await fh.writeFile(`${self.pid} ${self.start}\n`);
    await fh.close();
    return true;
  } catch {
    return false;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Removes aside files (`N.lock.reclaim.PID.*`, `N.lock.reap.PID.*`) whose maker died mid-way. */
export async function removeStrayAsides(lockDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(lockDir).catch(() => [] as string[])) {
    const m = /^\d+\.lock\.(?:reclaim|reap)\.(\d+)\./.exec(name);
    if (m === null || (await stat(`/proc/${m[1]}`).then(() => true, () => false))) continue;
    await unlink(`${lockDir}/${name}`).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
