/**
 * The private workspace: a tmpfs of its own (so its size and its number of inodes are capped by
 * the kernel), mounted by the
 * host under the run directory, owned by the sandbox's host uid, mode 0700 (no other sandbox uid
 * can enter it). The host's file operations resolve paths inside it without following symlinks
 * or "..", and check the opened file's real path, so nothing the sandbox wrote can lead them out.
 */
import { execFile } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, opendir, readlink, rmdir, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { AirlockError, type ErrorCode } from '../core/errors.ts';
import { openDirBeneath, openDirWithin, within } from './beneath.ts';
import type { Mounter } from './mounter.ts';
import { decideFile, MAX_NAME_BYTES, MAX_PATH_BYTES } from '../policy/decide.ts';
import { WORKSPACE } from './mounts.ts';

const run = promisify(execFile);

export interface FileEntry {
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'other';
  readonly size: number;
}

function outside(path: string, why: string): AirlockError {
  return new AirlockError('PATH_OUTSIDE_WORKSPACE', `path ${JSON.stringify(path)} ${why}: name a path inside the workspace`);
}


/**
 * What the sandbox left in its workspace can make a host file operation fail (a directory where a
 * file was named, a name too long, a FIFO): each such failure becomes a coded error that names the
 * workspace path, never the host's path or Node's raw message.
 */
function fileError(error: unknown, path: string): AirlockError {
  if (error instanceof AirlockError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'no error code';
  const named = JSON.stringify(path);
  if (code === 'ELOOP') return outside(path, 'is a symlink');
  const known: Readonly<Record<string, readonly [ErrorCode, string]>> = {
    ENOENT: ['INVALID_REQUEST', `no such file in the workspace: ${named}`],
    EISDIR: ['INVALID_REQUEST', `${named} is a directory, not a regular file: name a file`],
    ENOTDIR: ['INVALID_REQUEST', `a part of ${named} is not a directory: name a path through directories`],
    ENXIO: ['INVALID_REQUEST', `${named} is not a regular file (a FIFO or socket): name a regular file`],
    ENAMETOOLONG: ['INVALID_REQUEST', `${named} is too long: keep names to ${MAX_NAME_BYTES} bytes and paths to ${MAX_PATH_BYTES}`],
    ENOSPC: ['FILE_TOO_LARGE', 'the workspace is full: write less or raise limits.workspaceMiB (bytes) or limits.workspaceFiles (files)'],
  };
  const [as, message] = known[code] ?? ['INTERNAL', `the workspace operation on ${named} failed (${code})`];
  return new AirlockError(as, message);
}

/** Splits a workspace path ("a/b", "/workspace/a/b") into checked segments. */
export function segmentsOf(path: string): string[] {
  const decision = decideFile(path, WORKSPACE);
  if (!decision.allow) throw new AirlockError(decision.code, decision.message);
  const rel = path === WORKSPACE || path.startsWith(`${WORKSPACE}/`) ? path.slice(WORKSPACE.length + 1) : path;
  return rel.split('/').filter((s) => s !== '' && s !== '.');
}

export class Workspace {
  readonly dir: string;
  readonly uid: number;
  readonly gid: number;
  readonly bytes: number;
  readonly inodes: number;
  readonly #mounter: Mounter | undefined;

  private constructor(dir: string, uid: number, gid: number, bytes: number, inodes: number, mounter: Mounter | undefined) {
    this.dir = dir;
    this.uid = uid;
    this.gid = gid;
    this.bytes = bytes;
    this.inodes = inodes;
    this.#mounter = mounter;
  }

  /**
   * Mounts a fresh tmpfs of `bytes` at `dir` (which must not exist yet): through the long-lived
   * `mounter` when given, else with one mount(8).
   */
  static async create(dir: string, options: { uid: number; gid: number; bytes: number; inodes: number; mounter?: Mounter | undefined }): Promise<Workspace> {
    await mkdir(dir, { mode: 0o700 });
    try {
      if (options.mounter !== undefined) await options.mounter.mountTmpfs(dir, options);
      else await run('/usr/bin/mount', ['-t', 'tmpfs', '-o', `size=${options.bytes},nr_inodes=${options.inodes},mode=0700,uid=${options.uid},gid=${options.gid},nosuid,nodev`, 'airlock-ws', dir]);
    } catch (error) {
      await rmdir(dir).catch(() => undefined);
      if (error instanceof AirlockError) throw error;
      throw new AirlockError('SANDBOX_UNAVAILABLE', `can't mount the workspace tmpfs at ${dir}: run airlock as root (${(error as Error).message.trim()})`);
    }
    return new Workspace(dir, options.uid, options.gid, options.bytes, options.inodes, options.mounter);
  }

  /** The same workspace after its parent directory was renamed so that it now lives at `dir`. */
  movedTo(dir: string): Workspace {
    return new Workspace(dir, this.uid, this.gid, this.bytes, this.inodes, this.#mounter);
  }

  /** Unmounts and removes the mount point. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#mounter !== undefined) {
      await this.#mounter.unmount(this.dir);
    } else {
      try {
        await run('/usr/bin/umount', [this.dir]);
      } catch (error) {
        // "not mounted" means an earlier destroy got this far; anything else is a real leftover.
        if (!/not mounted|no mount point/.test(String((error as { stderr?: unknown }).stderr))) throw error;
      }
    }
    await rmdir(this.dir).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }

  /** Opens the parent directory of `segs` (see beneath.ts); makes missing dirs when asked. The caller closes it. */
  async #parent(path: string, segs: readonly string[], make: 'make-dirs' | 'existing'): Promise<FileHandle> {
    try {
      return await openDirBeneath(this.dir, segs.slice(0, -1), make === 'make-dirs' ? { uid: this.uid, gid: this.gid } : null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw outside(path, 'goes through a symlink');
      if (code === 'ENOENT') throw new AirlockError('INVALID_REQUEST', `no such directory in the workspace (in ${JSON.stringify(path)})`);
      if (code === 'ENOTDIR') throw new AirlockError('INVALID_REQUEST', `a part of ${JSON.stringify(path)} is not a directory: name a path through directories`);
      throw error;
    }
  }

  /** Checks that an open file really is inside the workspace (defence against a swapped path). */
  async #confirm(fd: number, path: string): Promise<void> {
    const real = await readlink(`/proc/self/fd/${fd}`);
    if (!real.startsWith(`${this.dir}/`)) throw outside(path, 'resolved outside the workspace');
  }

  async writeFile(path: string, data: string | Uint8Array, maxBytes: number): Promise<void> {
    try {
      await this.#write(path, data, maxBytes);
    } catch (error) {
      throw fileError(error, path);
    }
  }

  async #write(path: string, data: string | Uint8Array, maxBytes: number): Promise<void> {
    const segs = segmentsOf(path);
    if (segs.length === 0) throw new AirlockError('INVALID_REQUEST', `${JSON.stringify(path)} names the workspace itself, not a file`);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length > maxBytes) throw new AirlockError('FILE_TOO_LARGE', `${path} is ${bytes.length} bytes, over limits.fileBytes (${maxBytes}): write less or raise it`);
    const parent = await this.#parent(path, segs, 'make-dirs');
    // O_NONBLOCK: a FIFO the sandbox left here must not block the open (and a libuv thread with
    // it); with no reader it fails at once (ENXIO), and a regular file ignores the flag.
    const fh = await open(within(parent, segs.at(-1) ?? ''), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW | fsc.O_NONBLOCK, 0o644).finally(() => parent.close());
    try {
      await this.#confirm(fh.fd, path);
      if (!(await fh.stat()).isFile()) throw new AirlockError('INVALID_REQUEST', `${path} is not a regular file`);
      await fh.chown(this.uid, this.gid);
      await fh.writeFile(bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new AirlockError('FILE_TOO_LARGE', `the workspace is full (${this.bytes >> 20} MiB, ${this.inodes} files): write less or raise limits.workspaceMiB or limits.workspaceFiles`);
      }
      throw error;
    } finally {
      await fh.close();
    }
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer> {
    try {
      return await this.#read(path, maxBytes);
    } catch (error) {
      throw fileError(error, path);
    }
  }

  async #read(path: string, maxBytes: number): Promise<Buffer> {
    const segs = segmentsOf(path);
    const parent = await this.#parent(path, segs, 'existing');
    const fh = await open(within(parent, segs.at(-1) ?? ''), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK).finally(() => parent.close());
    try {
      await this.#confirm(fh.fd, path);
      const st = await fh.stat();
      if (!st.isFile()) throw new AirlockError('INVALID_REQUEST', `${path} is not a regular file`);
      if (st.size > maxBytes) throw new AirlockError('FILE_TOO_LARGE', `${path} is ${st.size} bytes, over the ${maxBytes} a read may return`);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /**
   * Every entry under `path` (default: the whole workspace), symlinks listed but not followed.
   * Entries deeper than MAX_PATH_BYTES are not listed: no file operation could name them.
   * A file with several names (hard links) is listed once, under the first name the walk meets,
   * so summing the sizes counts its bytes once, as the workspace's tmpfs does.
   */
  async listFiles(path = '.', maxEntries = 10_000): Promise<FileEntry[]> {
    try {
      return await this.#list(path, maxEntries);
    } catch (error) {
      throw fileError(error, path);
    }
  }

  async #list(path: string, maxEntries: number): Promise<FileEntry[]> {
    const segs = segmentsOf(path);
    const out: FileEntry[] = [];
    const seen = new Set<string>();
    // Each directory is read as it is open (never by its path again), a batch at a time, and only
    // as far as the listing still has room: a directory of a million names costs what the listing
    // returns. Its stream is closed before the walk goes deeper, so a deep tree holds one fd a level.
    const namesIn = async (dir: FileHandle): Promise<string[]> => {
      const names: string[] = [];
      for await (const e of await opendir(within(dir, ''), { bufferSize: 64 })) {
        if (out.length + names.length >= maxEntries) break;
        names.push(e.name);
      }
      return names;
    };
    const walk = async (dir: FileHandle, rel: string): Promise<void> => {
      for (const name of await namesIn(dir)) {
        if (out.length >= maxEntries) return;
        const p = rel === '' ? name : `${rel}/${name}`;
        if (Buffer.byteLength(p) > MAX_PATH_BYTES) continue;
        const st = await lstat(within(dir, name)).catch(() => undefined);
        if (st === undefined) continue; // removed by the sandbox since it was read
        const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
        if (type !== 'dir' && st.nlink > 1) {
          const inode = `${st.dev}:${st.ino}`;
          if (seen.has(inode)) continue;
          seen.add(inode);
        }
        out.push({ path: p, type, size: st.size });
        if (type !== 'dir') continue;
        const sub = await openDirWithin(dir, name).catch(() => undefined);
        if (sub === undefined) continue; // swapped for something else since the lstat: not walked
        try {
          await walk(sub, p);
        } finally {
          await sub.close();
        }
      }
    };
    const start = await this.#parent(path, [...segs, 'x'], 'existing');
    try {
      await walk(start, segs.join('/'));
    } finally {
      await start.close();
    }
    return out;
  }
}
