/**
 * Ed25519 keys for warrants (node:crypto) and their key ids. A key id is derived from the public
 * key (docs/warrant-format.md §4), so a kid can never name two keys and a new key is a new kid:
 * rotation is adding the new kid to the trusted set and, later, removing the old one.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AirlockError } from '../core/errors.ts';

/** A key that signs links: a root issuer's, or the holder's key of the link being attenuated. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A public key with its id, as a payload's `holder` names it. */
export interface PublicKeyRef {
  readonly kid: string;
  readonly key: KeyObject;
  /** The raw 32-byte key, base64url. */
  readonly raw: string;
}

const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;

/** `k_` + the first 22 base64url characters of SHA-256 of the raw public key. */
export function keyIdOf(raw: string): string {
  return `k_${createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('base64url').slice(0, 22)}`;
}

function rawOf(publicKey: KeyObject): string {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new AirlockError('INVALID_REQUEST', `a warrant key must be Ed25519, not ${String(publicKey.asymmetricKeyType)}`);
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new AirlockError('INVALID_REQUEST', 'the Ed25519 key has no public part');
  return jwk.x;
}

/** The public side of a key object (private or public), with its kid. */
export function publicRef(key: KeyObject): PublicKeyRef {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const raw = rawOf(publicKey);
  return { kid: keyIdOf(raw), key: publicKey, raw };
}

/** A public key from its raw base64url form, as a payload carries it. */
export function publicFromRaw(raw: string): PublicKeyRef {
  if (!RAW_KEY.test(raw) || Buffer.from(raw, 'base64url').toString('base64url') !== raw) {
    throw new AirlockError('WARRANT_INVALID', 'a holder key is not 32 bytes of canonical base64url');
  }
  // Made when first used: a leaf holder's key object is needed only for a bound token's proof,
  // and building one is a large share of a verification.
  let key: KeyObject | undefined;
  return {
    kid: keyIdOf(raw),
    raw,
    get key(): KeyObject {
      key ??= createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
      return key;
    },
  };
}

/** A signing key from a private key object. */
export function signingKey(privateKey: KeyObject): SigningKey {
  if (privateKey.type !== 'private') throw new AirlockError('INVALID_REQUEST', 'a signing key must be a private key');
  const ref = publicRef(privateKey);
  return { kid: ref.kid, privateKey, publicKey: ref.key };
}

// PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed (RFC 8410).
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The 32-byte seed of a signing key, as a bearer token carries it. */
export function seedOf(key: SigningKey): Buffer {
  const der = key.privateKey.export({ format: 'der', type: 'pkcs8' });
  return der.subarray(der.length - 32);
}

/** The private key of a 32-byte seed, with the raw public key it gives (its JWK carries it as `x`). */
export function privateKeyFromSeed(seed: Buffer): { readonly privateKey: KeyObject; readonly raw: string } {
  if (seed.length !== 32) throw new AirlockError('WARRANT_INVALID', 'a holder seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const { x } = privateKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new AirlockError('WARRANT_INVALID', 'a holder seed gives no public key');
  return { privateKey, raw: x };
}

/** A fresh Ed25519 key pair. */
export function generateSigningKey(): SigningKey {
  return signingKey(generateKeyPairSync('ed25519').privateKey);
}

/** PEM texts of a key pair (PKCS#8 private, SPKI public), for key files. */
export function keyPem(key: SigningKey): { readonly privatePem: string; readonly publicPem: string } {
  return {
    privatePem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** A key from PEM text: a private key gives a signing key, a public one only a reference. */
export function keyFromPem(pem: string, what: string): { readonly signing: SigningKey | null; readonly ref: PublicKeyRef } {
  try {
    if (pem.includes('PRIVATE KEY')) {
      const signing = signingKey(createPrivateKey(pem));
      return { signing, ref: publicRef(signing.publicKey) };
    }
    return { signing: null, ref: publicRef(createPublicKey(pem)) };
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    throw new AirlockError('INVALID_REQUEST', `${what} is not an Ed25519 key in PEM: ${(error as Error).message}`);
  }
}
