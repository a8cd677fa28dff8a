/**
 * The warrant envelope (docs/warrant-format.md §1–2): token text ⇄ the links' exact bytes. Only
 * framing lives here: lengths are checked against what is left before anything is read, and a
 * payload is handed on as the bytes that were signed, never parsed here.
 */
import { AirlockError } from '../core/errors.ts';

export const TOKEN_PREFIX = 'aw1.';
export const ENVELOPE_VERSION = 1;
export const MAX_TOKEN_CHARS = 65_536;
export const MAX_LINKS = 9;
export const MAX_PAYLOAD_BYTES = 16_384;
export const SIGNATURE_BYTES = 64;
export const KID = /^k_[A-Za-z0-9_-]{22}$/;
const KID_BYTES = 24;
const SIGN_DOMAIN = Buffer.from('airlock-warrant-v1\0', 'latin1');
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** One link as it appears in the envelope. */
export interface RawLink {
  readonly kid: string;
  /** The payload bytes exactly as signed. */
  readonly payload: Buffer;
  readonly signature: Buffer;
  /** The whole link (kidLen … signature): its SHA-256 is what a child names as `parent`. */
  readonly bytes: Buffer;
  /** What the signature covers: domain, version, then the link's bytes up to its signature. */
  readonly preimage: Buffer;
}

/**
 * How a token proves possession of its leaf holder's key. A chain's prefix is itself a chain, so
 * without this whoever received a child token could drop its last link and use the parent's
 * authority; the prefix's holder key is not in the token, so its proof can't be made.
 */
export type TokenProof =
  /** The leaf holder's Ed25519 private key (RFC 8032 seed) travels in the token: whoever holds it may use and attenuate it. */
  | { readonly kind: 'bearer'; readonly seed: Buffer }
  /** The presenter proves possession with a signature over the verifier's challenge (docs §7). */
  | { readonly kind: 'bound' };

export const SEED_BYTES = 32;

const invalid = (why: string): AirlockError => new AirlockError('WARRANT_INVALID', `the warrant is not a well-formed token: ${why}`);

/** The link's bytes before its signature (kidLen kid payloadLen payload). */
function linkBody(kid: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(1 + KID_BYTES + 4);
  head.writeUInt8(KID_BYTES, 0);
  head.write(kid, 1, 'latin1');
  head.writeUInt32BE(payload.length, 1 + KID_BYTES);
  return Buffer.concat([head, payload]);
}

/** The bytes a link's signer signs: the domain-separation prefix, the version, the link body. */
export function signingPreimage(kid: string, payload: Buffer): Buffer {
  if (!KID.test(kid)) throw invalid(`key id ${JSON.stringify(kid)} is not k_ and 22 base64url characters`);
  if (payload.length > MAX_PAYLOAD_BYTES) throw invalid(`a payload of ${payload.length} bytes is over ${MAX_PAYLOAD_BYTES}`);
  return Buffer.concat([SIGN_DOMAIN, Buffer.of(ENVELOPE_VERSION), linkBody(kid, payload)]);
}

/** A link from its signed parts. */
export function makeLink(kid: string, payload: Buffer, signature: Buffer): RawLink {
  const preimage = signingPreimage(kid, payload);
  const body = preimage.subarray(SIGN_DOMAIN.length + 1);
  return { kid, payload, signature, bytes: Buffer.concat([body, signature]), preimage };
}

/** Token text for these links, in chain order, with the leaf holder's proof. */
export function encodeToken(links: readonly RawLink[], proof: TokenProof): string {
  if (links.length === 0 || links.length > MAX_LINKS) throw invalid(`a chain holds 1 to ${MAX_LINKS} links, not ${links.length}`);
  if (proof.kind === 'bearer' && proof.seed.length !== SEED_BYTES) throw invalid(`a bearer seed is ${SEED_BYTES} bytes`);
  const tail = proof.kind === 'bearer' ? Buffer.concat([Buffer.of(1), proof.seed]) : Buffer.of(0);
  const text = TOKEN_PREFIX + Buffer.concat([Buffer.of(ENVELOPE_VERSION, links.length), ...links.map((l) => l.bytes), tail]).toString('base64url');
  if (text.length > MAX_TOKEN_CHARS) throw invalid(`it would be ${text.length} characters, over ${MAX_TOKEN_CHARS}`);
  return text;
}

/**
 * The links of a token and its proof, framing checked, nothing verified or parsed.
 *
 * @example
 *   const { links, proof } = decodeToken(token);   // throws WARRANT_INVALID on any framing fault
 */
export function decodeToken(token: unknown): { readonly links: RawLink[]; readonly proof: TokenProof } {
  if (typeof token !== 'string') throw invalid('it is not a string');
  if (token.length > MAX_TOKEN_CHARS) throw invalid(`it is ${token.length} characters, over ${MAX_TOKEN_CHARS}`);
  if (!token.startsWith(TOKEN_PREFIX)) throw invalid(`it does not start with ${TOKEN_PREFIX}`);
  const text = token.slice(TOKEN_PREFIX.length);
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw invalid('its body is not base64url');
  const bytes = Buffer.from(text, 'base64url');
  // Canonical only: stray bits in the last character would let two texts carry one token.
  if (bytes.toString('base64url') !== text) throw invalid('its base64url is not canonical');
  if (bytes.length < 2) throw invalid('it is too short');
  if (bytes[0] !== ENVELOPE_VERSION) throw invalid(`envelope version ${bytes[0]} is not ${ENVELOPE_VERSION}`);
  const count = bytes[1] ?? 0;
  if (count < 1 || count > MAX_LINKS) throw invalid(`it says ${count} links; a chain holds 1 to ${MAX_LINKS}`);
  const links: RawLink[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const start = at;
    if (bytes.length - at < 1) throw invalid(`link ${i} is cut short`);
    const kidLen = bytes.readUInt8(at);
    at += 1;
    if (kidLen !== KID_BYTES || bytes.length - at < kidLen + 4) throw invalid(`link ${i} has a bad key id length`);
    const kid = bytes.toString('latin1', at, at + kidLen);
    if (!KID.test(kid)) throw invalid(`link ${i} has a malformed key id`);
    at += kidLen;
    const payloadLen = bytes.readUInt32BE(at);
    at += 4;
    if (payloadLen > MAX_PAYLOAD_BYTES) throw invalid(`link ${i}'s payload of ${payloadLen} bytes is over ${MAX_PAYLOAD_BYTES}`);
    if (bytes.length - at < payloadLen + SIGNATURE_BYTES) throw invalid(`link ${i} is cut short`);
    const payload = bytes.subarray(at, at + payloadLen);
    at += payloadLen;
    const signature = bytes.subarray(at, at + SIGNATURE_BYTES);
    at += SIGNATURE_BYTES;
    const linkBytes = bytes.subarray(start, at);
    const preimage = Buffer.concat([SIGN_DOMAIN, Buffer.of(ENVELOPE_VERSION), linkBytes.subarray(0, linkBytes.length - SIGNATURE_BYTES)]);
    links.push({ kid, payload, signature, bytes: linkBytes, preimage });
  }
  const kind = bytes[at];
  at += 1;
  let proof: TokenProof;
  if (kind === 0) proof = { kind: 'bound' };
  else if (kind === 1 && bytes.length - at >= SEED_BYTES) {
    proof = { kind: 'bearer', seed: bytes.subarray(at, at + SEED_BYTES) };
    at += SEED_BYTES;
  } else throw invalid('its holder proof is missing or malformed');
  if (at !== bytes.length) throw invalid(`${bytes.length - at} bytes follow the holder proof`);
  return { links, proof };
}
