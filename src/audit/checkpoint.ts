/**
 * Signed checkpoints of the audit chain: the host's statement "log L held hash H at seq S at time
 * T", signed with Ed25519 (node:crypto) by a key kept outside the database. A checkpoint kept
 * where the database's attacker can't write (see checkpoint-witness.ts) makes a shortened or
 * rewritten tail show, which the chain alone can't: whoever can write the database can also move
 * its head.
 *
 * Format (one JSON object, one line in a witness file):
 *   { "v": 1, "log": L, "seq": S, "hash": H, "at": T, "key": K, "sig": B }
 * K is the key's id: the first 32 hex digits of sha256 of its raw 32-byte public key. B is the
 * base64 Ed25519 signature of SIGNED_PREFIX followed by JSON.stringify([L, S, H, T]): a domain-
 * separated prefix (no other airlock signature starts so), then an unambiguous array encoding.
 * The log id L names the log, not a tenant: one checkpoint covers every tenant's records.
 *
 * Pure: no files, no clock of its own.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { AirlockError } from '../core/errors.ts';
import type { ChainHead } from './chain.ts';

export const SIGNED_PREFIX = 'airlock.audit.checkpoint.v1\0';

export interface Checkpoint {
  readonly v: 1;
  /** Which log: 'sqlite:' + the database's absolute path as configured, or 'postgres://host:port/database'. */
  readonly log: string;
  readonly seq: number;
  readonly hash: string;
  /** When it was signed (the signing host's clock, ISO). */
  readonly at: string;
  /** The signing key's id (keyId()). */
  readonly key: string;
  /** Base64 Ed25519 signature over signedBytes(). */
  readonly sig: string;
}

const HASH = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{32}$/;
const ISO_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SIG = /^[A-Za-z0-9+/]{86}==$/;

/** The id of an Ed25519 public key: sha256 of its raw 32 bytes, first 32 hex digits. */
export function keyId(publicKey: KeyObject): string {
  const raw = publicKey.export({ format: 'jwk' }).x;
  if (publicKey.asymmetricKeyType !== 'ed25519' || typeof raw !== 'string') throw new AirlockError('INVALID_REQUEST', 'an audit checkpoint key must be an Ed25519 key');
  return createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('hex').slice(0, 32);
}

function signedBytes(log: string, seq: number, hash: string, at: string): Buffer {
  return Buffer.from(SIGNED_PREFIX + JSON.stringify([log, seq, hash, at]), 'utf8');
}

/**
 * Signs the head of log `log`.
 * @example const cp = signCheckpoint(privateKey, 'sqlite:/root/.airlock/audit.db', head, new Date());
 */
export function signCheckpoint(privateKey: KeyObject, log: string, head: ChainHead, at: Date): Checkpoint {
  const iso = at.toISOString();
  const sig = sign(null, signedBytes(log, head.seq, head.hash, iso), privateKey).toString('base64');
  return { v: 1, log, seq: head.seq, hash: head.hash, at: iso, key: keyId(createPublicKey(privateKey)), sig };
}

/**
 * Reads a checkpoint from untrusted JSON (a witness file, a remote witness, a --checkpoint file),
 * checking its shape only. Throws AUDIT_CHECKPOINT_INVALID naming the field.
 */
export function parseCheckpoint(value: unknown, from: string): Checkpoint {
  const bad = (what: string): never => {
    throw new AirlockError('AUDIT_CHECKPOINT_INVALID', `the checkpoint from ${from} is not an airlock audit checkpoint: ${what}`, { from });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('not a JSON object');
  const c = value as Record<string, unknown>;
  const known = new Set(['v', 'log', 'seq', 'hash', 'at', 'key', 'sig']);
  const extra = Object.keys(c).filter((k) => !known.has(k));
  if (extra.length > 0) bad(`unknown field ${JSON.stringify(extra[0])}`);
  if (c['v'] !== 1) bad('v must be 1');
  if (typeof c['log'] !== 'string' || c['log'].length === 0 || c['log'].length > 4096) bad('log must be a log id');
  if (typeof c['seq'] !== 'number' || !Number.isSafeInteger(c['seq']) || c['seq'] < 0) bad('seq must be a whole number');
  if (typeof c['hash'] !== 'string' || !HASH.test(c['hash'])) bad('hash must be 64 hex digits');
  if (typeof c['at'] !== 'string' || !ISO_AT.test(c['at'])) bad('at must be an ISO time');
  if (typeof c['key'] !== 'string' || !KEY_ID.test(c['key'])) bad('key must be a key id (32 hex digits)');
  if (typeof c['sig'] !== 'string' || !SIG.test(c['sig'])) bad('sig must be a base64 Ed25519 signature');
  return value as Checkpoint;
}

/**
 * Why `cp` is not a checkpoint of `log` signed by one of `trusted` (public keys), or null when it
 * is. Checks the key before the signature, so an unknown key says so.
 */
export function checkpointProblem(cp: Checkpoint, log: string, trusted: readonly KeyObject[]): string | null {
  if (cp.log !== log) return `it is a checkpoint of another log (${JSON.stringify(cp.log)}, not ${JSON.stringify(log)})`;
  const key = trusted.find((k) => keyId(k) === cp.key);
  if (key === undefined) return `it was signed by key ${cp.key}, which is not a trusted checkpoint key (trusted: ${trusted.map(keyId).join(', ') || 'none'})`;
  if (!verify(null, signedBytes(cp.log, cp.seq, cp.hash, cp.at), key, Buffer.from(cp.sig, 'base64'))) return `its signature does not verify with key ${cp.key} (forged or edited)`;
  return null;
}
