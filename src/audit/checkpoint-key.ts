/**
 * The host's checkpoint signing key: an Ed25519 private key (PKCS#8 PEM) in a file outside the
 * database and outside AIRLOCK_HOME, default /var/lib/airlock/checkpoint.key, mode 0600, owned by
 * root (or the user airlock runs as). Made on first use: written under a temporary name with
 * O_EXCL and hard-linked into place, which fails rather than replace a key another process made
 * first (then theirs is used). Read with O_NOFOLLOW and checked by fstat (see owned-path.ts).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { AirlockError } from '../core/errors.ts';
import { linkIntoPlace } from './link-into-place.ts';
import { checkOwnedFile, NOFOLLOW, ownedDir, within } from './owned-path.ts';

export const KEY_FILE = 'checkpoint.key';

/** A private key file: its checked path and the key. */
export interface CheckpointKey {
  readonly path: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Reads an open key file, checked by fstat, into an Ed25519 private key. */
function readKey(path: string, fd: number): CheckpointKey {
  checkOwnedFile(path, fstatSync(fd), 'private');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(fd));
  } catch (error) {
    throw new AirlockError('AUDIT_KEY_UNSAFE', `${path} is not a PEM private key (${(error as Error).message}): move it aside to have a new key made`, { path });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new AirlockError('AUDIT_KEY_UNSAFE', `${path} holds a ${String(privateKey.asymmetricKeyType)} key, not Ed25519: move it aside to have a new key made`, { path });
  return { path, privateKey, publicKey: createPublicKey(privateKey) };
}

function openNoFollow(path: string): number | null {
  try {
    return openSync(path, constants.O_RDONLY | NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new AirlockError('AUDIT_KEY_UNSAFE', `${path} is a symbolic link: the checkpoint key must be a regular file`, { path });
    throw new AirlockError('AUDIT_UNAVAILABLE', `can't read the checkpoint key ${path} (${(error as Error).message})`, { path });
  }
}

function createKey(path: string): void {
  const temp = `${path}.new-${process.pid}-${randomUUID()}`;
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
  try {
    writeSync(fd, pem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  linkIntoPlace(temp, path);
}

/**
 * The signing key at `path` (default <checkpoint dir>/checkpoint.key), made when missing and
 * `create` is 'if-missing'; null when missing and `create` is 'never' (verifying makes no key).
 * `home` is AIRLOCK_HOME: the key is refused inside it.
 *
 * @example const key = loadCheckpointKey({ path: '/var/lib/airlock/checkpoint.key', home, create: 'if-missing' });
 */
export function loadCheckpointKey(options: { path: string; home: string | undefined; create: 'if-missing' }): CheckpointKey;
export function loadCheckpointKey(options: { path: string; home: string | undefined; create: 'never' }): CheckpointKey | null;
export function loadCheckpointKey(options: { path: string; home: string | undefined; create: 'if-missing' | 'never' }): CheckpointKey | null {
  if (options.create === 'never' && !existsSync(dirname(options.path))) return null;
  const dir = ownedDir(dirname(options.path), options.home);
  const path = within(dir, basename(options.path));
  let fd = openNoFollow(path);
  if (fd === null) {
    if (options.create === 'never') return null;
    try {
      createKey(path);
    } catch (error) {
      throw new AirlockError('AUDIT_UNAVAILABLE', `can't create the checkpoint key ${path} (${(error as Error).message}): run as root, or set AIRLOCK_CHECKPOINT_DIR to a directory you own`, { path });
    }
    fd = openNoFollow(path);
    if (fd === null) throw new AirlockError('AUDIT_UNAVAILABLE', `the checkpoint key ${path} vanished as it was made: something else is changing that directory`, { path });
  }
  try {
    return readKey(path, fd);
  } finally {
    closeSync(fd);
  }
}

/** A public key from a PEM file the operator names (`--public-key`): public or private PEM. */
export function readPublicKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (error) {
    throw new AirlockError('INVALID_REQUEST', `--public-key ${path} is not a PEM key (${(error as Error).message}): give the checkpoint key's public half`, { path });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AirlockError('INVALID_REQUEST', `--public-key ${path} is a ${String(key.asymmetricKeyType)} key, not Ed25519`, { path });
  return key;
}
