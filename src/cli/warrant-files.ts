/**
 * Where `airlock warrant` keeps its state, under $AIRLOCK_HOME/warrants:
 *   keys/<kid>.key      private keys (PKCS#8 PEM), mode 0600, in a 0700 directory
 *   keys/<kid>.pub      their public keys (SPKI PEM)
 *   trusted/<kid>.pub   the root keys `verify` trusts; rotating is adding a new one, later removing the old
 *   revoked             revoked warrant ids, one a line
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { keyFromPem, keyPem, type PublicKeyRef, type SigningKey } from '../authority/keys.ts';
import { KID, MAX_TOKEN_CHARS } from '../authority/envelope.ts';
import { protoKeyPath, WARRANT_ID } from '../authority/payload.ts';
import { AirlockError } from '../core/errors.ts';
import { parseStrictJson } from '../core/strict-json.ts';
import { readBounded } from './read-bounded.ts';

const MAX_KEY_FILE = 16 * 1024;
const MAX_DOCUMENT = 256 * 1024;
const MAX_REVOKED_FILE = 64 * 1024 * 1024;

export interface WarrantDirs {
  readonly keys: string;
  readonly trusted: string;
  readonly revoked: string;
}

export function warrantDirs(env: NodeJS.ProcessEnv): WarrantDirs {
  const homeVar = env['AIRLOCK_HOME'];
  const home = resolve(homeVar !== undefined && homeVar !== '' ? homeVar : join(homedir(), '.airlock'));
  const root = join(home, 'warrants');
  return { keys: join(root, 'keys'), trusted: join(root, 'trusted'), revoked: join(root, 'revoked') };
}

function readSmall(path: string, max: number, what: string): string {
  try {
    return readBounded(path === '-' ? 0 : path, max, { code: 'INVALID_REQUEST', message: `${what} ${path} is over ${max} bytes` }).toString('utf8');
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    throw new AirlockError('INVALID_REQUEST', `can't read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A key named by path, or by key id among the keys in $AIRLOCK_HOME/warrants/keys. */
function keyPath(dirs: WarrantDirs, name: string, ext: '.key' | '.pub'): string {
  return KID.test(name) ? join(dirs.keys, `${name}${ext}`) : name;
}

export function readSigningKey(dirs: WarrantDirs, name: string): SigningKey {
  const path = keyPath(dirs, name, '.key');
  const { signing } = keyFromPem(readSmall(path, MAX_KEY_FILE, 'the key file'), path);
  if (signing === null) throw new AirlockError('INVALID_REQUEST', `${path} holds a public key; signing needs the private key (.key)`);
  return signing;
}

/** The key ids of the private keys kept in $AIRLOCK_HOME/warrants/keys. */
export function heldKeyIds(dirs: WarrantDirs): string[] {
  if (!existsSync(dirs.keys)) return [];
  return readdirSync(dirs.keys)
    .filter((f) => f.endsWith('.key'))
    .map((f) => f.slice(0, -'.key'.length))
    .filter((kid) => KID.test(kid));
}

export function readPublicKey(dirs: WarrantDirs, name: string): PublicKeyRef {
  const path = KID.test(name) ? join(dirs.keys, `${name}.pub`) : name;
  return keyFromPem(readSmall(path, MAX_KEY_FILE, 'the key file'), path).ref;
}

/** Writes a new key pair; the private key file is created 0600 and never overwritten. */
export function writeKeyPair(dirs: WarrantDirs, key: SigningKey, out: string | undefined): { readonly privatePath: string; readonly publicPath: string } {
  const base = out ?? join(dirs.keys, key.kid);
  if (out === undefined) mkdirSync(dirs.keys, { recursive: true, mode: 0o700 });
  const pem = keyPem(key);
  const privatePath = `${base}.key`;
  const publicPath = `${base}.pub`;
  try {
    writeFileSync(privatePath, pem.privatePem, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicPath, pem.publicPem, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    throw new AirlockError('INVALID_REQUEST', `can't write the key files at ${base}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { privatePath, publicPath };
}

export function trustKey(dirs: WarrantDirs, kid: string, key: KeyObject): string {
  mkdirSync(dirs.trusted, { recursive: true, mode: 0o700 });
  const path = join(dirs.trusted, `${kid}.pub`);
  writeFileSync(path, key.export({ format: 'pem', type: 'spki' }).toString(), { mode: 0o644 });
  return path;
}

/** The trusted root keys: every .pub under trusted/, and the files given. */
export function trustedKeys(dirs: WarrantDirs, extra: readonly string[]): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  const files = existsSync(dirs.trusted) ? readdirSync(dirs.trusted).filter((f) => f.endsWith('.pub')).map((f) => join(dirs.trusted, f)) : [];
  for (const path of [...files, ...extra]) {
    const ref = keyFromPem(readSmall(path, MAX_KEY_FILE, 'the key file'), path).ref;
    out.set(ref.kid, ref.key);
  }
  return out;
}

export function revokedIds(dirs: WarrantDirs): Set<string> {
  if (!existsSync(dirs.revoked)) return new Set();
  return new Set(
    readSmall(dirs.revoked, MAX_REVOKED_FILE, 'the revocation list')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  );
}

export function revoke(dirs: WarrantDirs, id: string): void {
  if (!WARRANT_ID.test(id)) throw new AirlockError('INVALID_REQUEST', `${JSON.stringify(id)} is not a warrant id (wr_ and 22 base64url characters, as \`airlock warrant inspect\` prints)`);
  mkdirSync(join(dirs.revoked, '..'), { recursive: true, mode: 0o700 });
  appendFileSync(dirs.revoked, `${id}\n`, { mode: 0o600 });
}

/** A token given as itself, as a file path, or as `-` (stdin). */
export function readToken(source: string): string {
  if (source.startsWith('aw1.')) return source;
  return readSmall(source, MAX_TOKEN_CHARS + 2, 'the token file').trim();
}

/** A JSON document given inline (starting with { or [) or as a file path. */
export function readDocument(source: string, what: string): unknown {
  const text = /^\s*[[{]/.test(source) ? source : readSmall(source, MAX_DOCUMENT, what);
  const parsed = parseStrictJson(text);
  if (!parsed.ok) throw new AirlockError('INVALID_REQUEST', `${what} is not strict JSON: ${parsed.problem}`);
  const proto = protoKeyPath(parsed.value);
  if (proto !== null) throw new AirlockError('INVALID_REQUEST', `${what} holds a "__proto__" key at ${proto}: choose another name`);
  return parsed.value;
}
