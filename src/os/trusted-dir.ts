/**
 * Where airlock keeps what it trusts (compiled seccomp programs, the registry, uid locks), no one
 * but root may write: a program planted there would be loaded as a sandbox's filter, a lock or
 * record planted there would steer the reaper. A directory qualifies when it and every directory
 * above it is a real directory (not a symlink), owned by root, and not writable by group or
 * others. A sticky world-writable ancestor such as /tmp is allowed, because the entry below it
 * must itself be root's, and the sticky bit keeps others from renaming or removing it.
 */
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { AirlockError } from '../core/errors.ts';

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/**
 * Throws SANDBOX_UNAVAILABLE naming the first directory on the way to `dir` that someone other
 * than root could change, and how to fix it. `what` says what the directory holds.
 *
 * @example
 *   assertTrustedDir('/run/airlock', 'the sandbox registry');
 */
export function assertTrustedDir(dir: string, what: string): void {
  const names = resolve(dir).split('/').filter((n) => n !== '');
  for (let depth = 0; depth <= names.length; depth++) {
    const path = `/${names.slice(0, depth).join('/')}`;
    const last = depth === names.length;
    const st = lstatSync(path);
    const refuse = (why: string, fix: string): never => {
      throw new AirlockError('SANDBOX_UNAVAILABLE', `${what} is in ${dir}, but ${path} ${why}, so another user could change what airlock trusts there: ${fix}`);
    };
    if (st.isSymbolicLink()) refuse('is a symlink', `use the real path (${names.length > 0 ? 'resolve it' : 'no symlinks'}) or move the directory`);
    if (!st.isDirectory()) refuse('is not a directory', 'name a directory');
    if (st.uid !== 0) refuse(`is owned by uid ${st.uid}`, `chown root ${path}, or choose a directory root owns`);
    if ((st.mode & GROUP_OR_OTHER_WRITE) !== 0 && (last || (st.mode & STICKY) === 0)) refuse(`is writable by its group or by others (mode ${(st.mode & 0o7777).toString(8)})`, `chmod go-w ${path}`);
  }
}
