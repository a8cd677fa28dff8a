/**
 * Proof of possession (docs/warrant-format.md §7): a token bound to its holder is only good
 * together with a signature by the leaf holder's key over the verifier's challenge, so a token
 * that leaks off the host is useless without the holder's private key.
 */
import { sign, verify } from 'node:crypto';
import { AirlockError } from '../core/errors.ts';
import type { PublicKeyRef, SigningKey } from './keys.ts';

const POP_DOMAIN = Buffer.from('airlock-warrant-pop-v1\0', 'latin1');
const MAX_CHALLENGE_BYTES = 256;
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/** What a presenter sends beside a holder-bound token. */
export interface HolderProof {
  /** The verifier's challenge (a nonce it issued, or a time window it accepts), 1–256 bytes. */
  readonly challenge: string;
  /** Ed25519 signature by the leaf holder's key, base64url. */
  readonly signature: string;
}

function preimage(chainHash: string, challenge: string): Buffer {
  const bytes = Buffer.from(challenge, 'utf8');
  if (bytes.length < 1 || bytes.length > MAX_CHALLENGE_BYTES) {
    throw new AirlockError('INVALID_REQUEST', `a proof challenge is 1 to ${MAX_CHALLENGE_BYTES} bytes, not ${bytes.length}`);
  }
  return Buffer.concat([POP_DOMAIN, Buffer.from(chainHash, 'hex'), bytes]);
}

/**
 * Signs a challenge as the holder of a chain whose leaf hash is `chainHash`.
 *
 * @example
 *   const proof = proveHolder(verified.chainHash, holderKey, nonceFromVerifier);
 */
export function proveHolder(chainHash: string, holder: SigningKey, challenge: string): HolderProof {
  return { challenge, signature: sign(null, preimage(chainHash, challenge), holder.privateKey).toString('base64url') };
}

/** Whether the proof is the holder's signature over this chain and challenge. */
export function proofHolds(holder: PublicKeyRef, chainHash: string, proof: HolderProof): boolean {
  if (typeof proof.signature !== 'string' || !SIGNATURE.test(proof.signature) || typeof proof.challenge !== 'string') return false;
  const signature = Buffer.from(proof.signature, 'base64url');
  if (signature.toString('base64url') !== proof.signature) return false;
  try {
    return verify(null, preimage(chainHash, proof.challenge), holder.key, signature);
  } catch {
    return false;
  }
}
