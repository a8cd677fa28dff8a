/**
 * Where the checkpoint key and witness files may live: in a directory that only root (or the user
 * airlock runs as) can change, reached through directories no one else can change either, and
 * outside AIRLOCK_HOME, so that whoever can write the audit database can neither read the key nor
 * rewrite what the witness holds. Checked like sshd's StrictModes: every directory from / down is
 * owned by root or us and not group/world-writable (a sticky directory such as /tmp passes: others
 * can't rename or remove what we own in it); the files are opened with O_NOFOLLOW and checked by
 * fstat on the open descriptor, so a symlink or a swap between check and use is refused.
 */
import { constants, lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AirlockError } from '../core/errors.ts';

/** The sticky bit (not in node's fs.constants). */
const S_ISVTX = 0o1000;

/** Where the key and the default file witness live unless told otherwise. */
export const DEFAULT_CHECKPOINT_DIR = '/var/lib/airlock';

/** $AIRLOCK_CHECKPOINT_DIR, or /var/lib/airlock. */
export function checkpointDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['AIRLOCK_CHECKPOINT_DIR'];
  return resolve(dir !== undefined && dir !== '' ? dir : DEFAULT_CHECKPOINT_DIR);
}

function unsafe(path: string, why: string): AirlockError {
  return new AirlockError('AUDIT_KEY_UNSAFE', `${path} can't hold audit checkpoints: ${why}. Fix its owner and mode, or choose another place with AIRLOCK_CHECKPOINT_DIR (outside AIRLOCK_HOME)`, { path });
}

function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === process.geteuid?.();
}

/** Opening flags that refuse a symlink as the last component. */
export const NOFOLLOW = constants.O_NOFOLLOW;

/**
 * Creates `dir` (mode 0700) when missing, then checks it and every directory above it. Returns its
 * real path. Throws AUDIT_KEY_UNSAFE naming the directory at fault.
 */
export function ownedDir(dir: string, home: string | undefined): string {
  const wanted = resolve(dir);
  // Refused before anything is made: a key inside AIRLOCK_HOME is never created.
  if (home !== undefined) outsideHome(wanted, home);
  try {
    mkdirSync(wanted, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new AirlockError('AUDIT_UNAVAILABLE', `can't create ${wanted} for audit checkpoints (${(error as Error).message}): run as root, or set AIRLOCK_CHECKPOINT_DIR to a directory you own outside AIRLOCK_HOME`, { path: wanted });
  }
  const real = realpathSync(wanted);
  if (home !== undefined) outsideHome(real, home);
  const parts = real.split(sep).filter((p) => p !== '');
  for (let i = 0; i <= parts.length; i += 1) {
    const at = sep + parts.slice(0, i).join(sep);
    const st = lstatSync(at);
    if (!st.isDirectory()) throw unsafe(at, 'not a directory');
    if (!trustedOwner(st.uid)) throw unsafe(at, `owned by uid ${st.uid}, not root or this user`);
    const last = i === parts.length;
    const sticky = (st.mode & S_ISVTX) !== 0;
    if ((st.mode & 0o022) !== 0 && (last || !sticky)) throw unsafe(at, `group or others may write to it (mode ${(st.mode & 0o7777).toString(8)})`);
  }
  return real;
}

/** Throws AUDIT_KEY_UNSAFE when `path` is inside `home` (AIRLOCK_HOME, where the database lives), as given or as resolved. */
export function outsideHome(path: string, home: string): void {
  const spellings = [resolve(home)];
  try {
    spellings.push(realpathSync(home));
  } catch {
    // No home yet: the spelling given is the only one.
  }
  for (const h of spellings) {
    const rel = relative(h, path);
    const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
    if (!outside) throw unsafe(path, `it is inside AIRLOCK_HOME (${h}), which whoever can write the audit database can also change`);
  }
}

/** Checks an open file (its fstat): a regular file of ours that no one else may write (or, for `private`, read). */
export function checkOwnedFile(path: string, st: Stats, access: 'private' | 'readable'): void {
  if (!st.isFile()) throw unsafe(path, 'not a regular file');
  if (!trustedOwner(st.uid)) throw unsafe(path, `owned by uid ${st.uid}, not root or this user`);
  const forbidden = access === 'private' ? 0o077 : 0o022;
  if ((st.mode & forbidden) !== 0) throw unsafe(path, `mode ${(st.mode & 0o7777).toString(8)} lets ${access === 'private' ? 'others read or write it: it must be 0600' : 'others write it'}`);
}

/** `name` inside the checked directory `dir`. */
export function within(dir: string, name: string): string {
  const path = join(dir, name);
  if (dirname(path) !== dir) throw new AirlockError('INTERNAL', `${name} is not a plain file name`);
  return path;
}
