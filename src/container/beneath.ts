/**
 * Resolving a workspace path one name at a time, each name opened relative to the directory
 * already open before it (through /proc/self/fd/N, Node's way to reach openat), with O_NOFOLLOW.
 * A sandbox process that swaps a directory for a symlink while the host walks can then only make
 * the walk fail (ELOOP, ENOTDIR), never lead it out of the workspace: no name is looked up again
 * after it was checked.
 */
import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';

const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

/** The path of `name` inside the directory open as `dir`: resolved from that directory, not from its path. */
export function within(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** Opens `name` inside `dir` as a directory, refusing a symlink (ELOOP) or a non-directory (ENOTDIR). */
export async function openDirWithin(dir: FileHandle, name: string): Promise<FileHandle> {
  try {
    return await open(within(dir, name), DIR_FLAGS);
  } catch (error) {
    // O_DIRECTORY with O_NOFOLLOW answers ENOTDIR for a symlink too: tell the two apart.
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR' && (await lstat(within(dir, name)).catch(() => undefined))?.isSymbolicLink() === true) {
      throw Object.assign(new Error(`${name} is a symlink`), { code: 'ELOOP' });
    }
    throw error;
  }
}

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Opens the directory at `root`/`segs`, one name at a time. With `makeAs`, a missing directory is
 * made and given to that owner; without, a missing one fails (ENOENT). The caller closes the result.
 */
export async function openDirBeneath(root: string, segs: readonly string[], makeAs: Owner | null): Promise<FileHandle> {
  let dir = await open(root, DIR_FLAGS);
  try {
    for (const name of segs) {
      let next: FileHandle;
      try {
        next = await openDirWithin(dir, name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || makeAs === null) throw error;
        await mkdir(within(dir, name), { mode: 0o755 }).catch((e: unknown) => {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        });
        next = await openDirWithin(dir, name);
        await next.chown(makeAs.uid, makeAs.gid);
      }
      await dir.close();
      dir = next;
    }
    return dir;
  } catch (error) {
    await dir.close();
    throw error;
  }
}
