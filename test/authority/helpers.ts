// Shared by the warrant tests: keys, a root, verify options, and a forger that signs any payload
// (for links the library itself would refuse to make, so that the verifier is what refuses them).
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { decodeToken, encodeToken, makeLink, signingPreimage, type RawLink, type TokenProof } from '../../src/authority/envelope.ts';
import { generateSigningKey, seedOf, type SigningKey } from '../../src/authority/keys.ts';
import { mintWarrant } from '../../src/authority/mint.ts';
import type { GrantDoc } from '../../src/authority/payload.ts';
import type { VerifyOptions } from '../../src/authority/verify.ts';

export const NOW = Date.UTC(2026, 11, 6, 8, 0, 0);
export const HOUR = 3_600_000;

export interface World {
  readonly root: SigningKey;
  readonly host: SigningKey;
  readonly sub: SigningKey;
  readonly other: SigningKey;
  readonly options: VerifyOptions;
}

export function world(tenant = 'acme'): World {
  const root = generateSigningKey();
  return {
    root,
    host: generateSigningKey(),
    sub: generateSigningKey(),
    other: generateSigningKey(),
    options: { trustedKeys: new Map([[root.kid, root.publicKey]]), now: NOW, revoked: new Set<string>(), tenant },
  };
}

export const READ_MAIL: GrantDoc[] = [{ tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*'] }];

/** A root for `w.host`, as a bearer token carrying the host's key. */
export function rootToken(w: World, extra: { grants?: GrantDoc[]; maxDepth?: number; expiresAt?: number; tenant?: string } = {}): string {
  const bound = mintWarrant({
    signer: w.root,
    holder: w.host.publicKey,
    tenant: extra.tenant ?? 'acme',
    now: NOW,
    expiresAt: extra.expiresAt ?? NOW + HOUR,
    grants: extra.grants ?? READ_MAIL,
    ...(extra.maxDepth !== undefined && { maxDepth: extra.maxDepth }),
  });
  return tokenOf(linksOf(bound), w.host);
}

/** A link over any payload, signed by any key: what an attacker holding that key could make. */
export function forgeLink(signer: SigningKey, payload: unknown): RawLink {
  const bytes = Buffer.from(canonicalJson(payload), 'utf8');
  return makeLink(signer.kid, bytes, sign(null, signingPreimage(signer.kid, bytes), signer.privateKey));
}

/** A link over exact payload text (JSON.stringify keeps an own "__proto__" key; canonicalJson would not). */
export function forgeRawLink(signer: SigningKey, text: string): RawLink {
  const bytes = Buffer.from(text, 'utf8');
  return makeLink(signer.kid, bytes, sign(null, signingPreimage(signer.kid, bytes), signer.privateKey));
}

export const payloadOf = (link: RawLink): Record<string, unknown> => JSON.parse(link.payload.toString('utf8')) as Record<string, unknown>;
export const linksOf = (token: string): RawLink[] => decodeToken(token).links;
export const proofOf = (token: string): TokenProof => decodeToken(token).proof;
/** A token of these links whose proof is the given holder's key (bearer). */
export const tokenOf = (links: readonly RawLink[], holder: SigningKey): string => encodeToken(links, { kind: 'bearer', seed: seedOf(holder) });

/** Runs fn and requires it to throw an AirlockError with this code. */
export function throwsCode(fn: () => unknown, code: string, message?: RegExp): AirlockError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AirlockError, `expected an AirlockError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}, but nothing was thrown`);
}
