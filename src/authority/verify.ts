/**
 * verifyWarrant(): token text → a VerifiedWarrant, which only this module can build (STYLE.md §6),
 * so "used a warrant nobody verified" is a type error. Follows docs/warrant-format.md §3: each
 * link's key is chosen before its payload is read, its signature verified over the exact bytes,
 * and only then is the payload parsed and the chain invariants (§5) checked. Pure: the caller
 * passes the clock (`now`), the trusted keys and the revoked ids.
 */
import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import { AirlockError } from '../core/errors.ts';
import { decodeToken, type RawLink, type TokenProof } from './envelope.ts';
import { compileFlow, type CompiledFlow } from './flow.ts';
import { compileGrants, type CompiledGrant } from './grants.ts';
import { publicFromRaw, publicRef, privateKeyFromSeed, type PublicKeyRef, type SigningKey } from './keys.ts';
import { parsePayload, type Payload } from './payload.ts';
import { proofHolds, type HolderProof } from './proof.ts';

/** How far in the future a link's `iat` may be (clock skew between hosts). */
export const IAT_SKEW_MS = 60_000;

/** The revoked warrant ids, as the caller keeps them. */
export interface RevocationSet {
  has(id: string): boolean;
}

export interface VerifyOptions {
  /** Root keys by key id. Removing a kid refuses every chain it signed, cached or not. */
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  /** Milliseconds since the epoch. */
  readonly now: number;
  readonly revoked: RevocationSet;
  /** The tenant the caller acts for: a chain rooted for another tenant is refused. */
  readonly tenant: string;
  /** Required for a bound token (one that carries no holder key): the holder's proof of possession. */
  readonly proof?: HolderProof;
}

/** One level of a verified chain: its payload, and its grants and flow rules compiled. */
export interface WarrantLevel {
  readonly id: string;
  readonly depth: number;
  readonly payload: Payload;
  /** null: this level states no grants and inherits its parent's. */
  readonly grants: readonly CompiledGrant[] | null;
  readonly flow: CompiledFlow;
}

interface WarrantParts {
  readonly links: readonly RawLink[];
  readonly levels: readonly WarrantLevel[];
  readonly rootKey: KeyObject;
  readonly holder: PublicKeyRef;
  readonly bearer: SigningKey | null;
}

const BUILD: unique symbol = Symbol('VerifiedWarrant');

/** A chain whose signatures and invariants held when verifyWarrant() built it. */
export class VerifiedWarrant {
  readonly tenant: string;
  /** The leaf link's warrant id. */
  readonly id: string;
  /** Every link's id, root first. */
  readonly ids: readonly string[];
  /** SHA-256 (hex) of the leaf link's bytes: it commits to the whole chain. */
  readonly chainHash: string;
  readonly depth: number;
  /** The deepest link this chain may still grow to. */
  readonly maxDepth: number;
  /** The earliest expiry of the chain (the leaf's, since expiry only shrinks). */
  readonly expiresAt: number;
  /** The latest issue time of any link. */
  readonly issuedAt: number;
  readonly rootKid: string;
  readonly rootKey: KeyObject;
  /** The key that may use this chain and sign its next link. */
  readonly holder: PublicKeyRef;
  /**
   * The holder's key when the token carried it (a bearer token): what attenuation signs with.
   * null for a bound token, whose presenter proves possession of the holder key on each use.
   */
  readonly bearer: SigningKey | null;
  readonly levels: readonly WarrantLevel[];
  readonly flows: readonly CompiledFlow[];
  /** The links exactly as received, for attenuation to append to. */
  readonly links: readonly RawLink[];

  constructor(build: typeof BUILD, parts: WarrantParts) {
    if (build !== BUILD) throw new AirlockError('INTERNAL', 'a VerifiedWarrant is built only by verifyWarrant()');
    const root = parts.levels[0];
    const leaf = parts.levels.at(-1);
    const leafLink = parts.links.at(-1);
    if (root === undefined || leaf === undefined || leafLink === undefined || root.payload.tenant === undefined) throw new AirlockError('INTERNAL', 'a verified chain has a root with a tenant');
    this.tenant = root.payload.tenant;
    this.id = leaf.id;
    this.ids = Object.freeze(parts.levels.map((l) => l.id));
    this.chainHash = createHash('sha256').update(leafLink.bytes).digest('hex');
    this.depth = leaf.depth;
    this.maxDepth = leaf.payload.maxDepth;
    this.expiresAt = leaf.payload.exp;
    this.issuedAt = Math.max(...parts.levels.map((l) => l.payload.iat));
    this.rootKid = root.payload.iss;
    this.rootKey = parts.rootKey;
    this.holder = parts.holder;
    this.bearer = parts.bearer;
    this.levels = Object.freeze([...parts.levels]);
    this.flows = Object.freeze(parts.levels.map((l) => l.flow));
    this.links = Object.freeze([...parts.links]);
    Object.freeze(this);
  }
}

const invalid = (message: string): AirlockError => new AirlockError('WARRANT_INVALID', message);

/** The key that signs link `index`: a trusted root key, or the previous link's holder. */
function signerOf(link: RawLink, index: number, previous: { readonly holder: PublicKeyRef } | undefined, trustedKeys: ReadonlyMap<string, KeyObject>): KeyObject {
  if (previous !== undefined) {
    if (link.kid !== previous.holder.kid) throw invalid(`link ${index} is signed by ${link.kid}, not by its parent's holder ${previous.holder.kid}`);
    return previous.holder.key;
  }
  const key = trustedKeys.get(link.kid);
  if (key === undefined) throw new AirlockError('WARRANT_KEY_UNTRUSTED', `the warrant's root key ${link.kid} is not trusted: add it to the trusted keys, or mint with a trusted key`);
  if (publicRef(key).kid !== link.kid) throw new AirlockError('WARRANT_KEY_UNTRUSTED', `the trusted key listed as ${link.kid} is another key: list each key under its own key id`);
  return key;
}

/** C1–C5 of docs/warrant-format.md §5, for a payload whose signature already verified. */
function checkLink(p: Payload, link: RawLink, index: number, previous: { readonly payload: Payload; readonly link: RawLink } | undefined): void {
  if (p.iss !== link.kid) throw invalid(`link ${index} names issuer ${p.iss} but was signed by ${link.kid}`);
  if (p.iat > p.exp) throw invalid(`link ${index} expires before it was issued`);
  if (previous === undefined) {
    if (p.parent !== null || p.depth !== 0) throw invalid('the root link names a parent or a depth other than 0: a chain starts at a root');
    if (p.tenant === undefined || p.grants === undefined) throw invalid('the root link states no tenant or no grants');
    return;
  }
  const up = previous.payload;
  if (p.parent !== createHash('sha256').update(previous.link.bytes).digest('hex')) throw invalid(`link ${index} does not name the link before it as its parent: links were reordered or spliced`);
  if (p.depth !== up.depth + 1) throw invalid(`link ${index} says depth ${p.depth}; its parent is at ${up.depth}`);
  if (p.depth > up.maxDepth) throw invalid(`link ${index} is at depth ${p.depth}, past the chain's limit of ${up.maxDepth}`);
  if (p.maxDepth > up.maxDepth) throw invalid(`link ${index} raises the depth limit from ${up.maxDepth} to ${p.maxDepth}`);
  if (p.exp > up.exp) throw invalid(`link ${index} expires after its parent: expiry only shrinks`);
  if (p.tenant !== undefined) throw invalid(`link ${index} states a tenant: only the root does`);
}

/** The bearer key a token carries, checked against the leaf holder; null for a bound token. */
function bearerOf(proof: TokenProof, holder: PublicKeyRef): SigningKey | null {
  if (proof.kind === 'bound') return null;
  const key = privateKeyFromSeed(proof.seed);
  if (key.raw !== holder.raw) throw invalid("the token's holder key is not the leaf's holder: links were removed, or the key was changed");
  return {
    kid: holder.kid,
    privateKey: key.privateKey,
    get publicKey(): KeyObject {
      return holder.key;
    },
  };
}

/** The chain's signatures and invariants, and its holder proof; no clock, revocation or tenant yet. */
function verifyChain(token: unknown, trustedKeys: ReadonlyMap<string, KeyObject>): WarrantParts {
  const { links, proof } = decodeToken(token);
  const levels: WarrantLevel[] = [];
  let previous: { readonly payload: Payload; readonly link: RawLink; readonly holder: PublicKeyRef } | undefined;
  let rootKey: KeyObject | undefined;
  for (const [index, link] of links.entries()) {
    const key = signerOf(link, index, previous, trustedKeys);
    rootKey ??= key;
    let good: boolean;
    try {
      good = verifySignature(null, link.preimage, key, link.signature);
    } catch {
      good = false;
    }
    if (!good) throw invalid(`link ${index}'s signature does not verify: the token was changed or signed by another key`);
    const payload = parsePayload(link.payload, index);
    checkLink(payload, link, index, previous);
    const holder = publicFromRaw(payload.holder.key);
    if (holder.kid !== payload.holder.kid) throw invalid(`link ${index}'s holder key id does not match its key`);
    levels.push({ id: payload.id, depth: payload.depth, payload, grants: payload.grants === undefined ? null : compileGrants(payload.grants), flow: compileFlow(payload.flow) });
    previous = { payload, link, holder };
  }
  if (previous === undefined || rootKey === undefined) throw invalid('the token holds no links');
  return { links, levels, rootKey, holder: previous.holder, bearer: bearerOf(proof, previous.holder) };
}

/**
 * What can change after a chain verified: the trusted keys, the tenant asked for, the clock, the
 * revoked set, the proof. Run on every use of a cached chain too.
 */
export function checkStanding(w: VerifiedWarrant, options: VerifyOptions): void {
  const key = options.trustedKeys.get(w.rootKid);
  if (key === undefined || !key.equals(w.rootKey)) throw new AirlockError('WARRANT_KEY_UNTRUSTED', `the warrant's root key ${w.rootKid} is no longer trusted: get a warrant minted with a trusted key`);
  if (w.tenant !== options.tenant) throw invalid(`the warrant is for tenant "${w.tenant}", not "${options.tenant}"`);
  if (options.now >= w.expiresAt) throw new AirlockError('WARRANT_EXPIRED', `the warrant expired at ${new Date(w.expiresAt).toISOString()}: get a new one`);
  if (w.issuedAt > options.now + IAT_SKEW_MS) throw invalid('the warrant was issued in the future: check the issuing host\'s clock');
  const revoked = w.ids.find((id) => options.revoked.has(id));
  if (revoked !== undefined) throw new AirlockError('WARRANT_REVOKED', `warrant ${revoked} of this chain was revoked: get a new one`);
  if (w.bearer === null) {
    if (options.proof === undefined) throw new AirlockError('WARRANT_PROOF_REQUIRED', `the warrant is bound to holder ${w.holder.kid}: present a proof of possession with it`);
    if (!proofHolds(w.holder, w.chainHash, options.proof)) throw new AirlockError('WARRANT_PROOF_REQUIRED', `the proof is not holder ${w.holder.kid}'s signature over this chain and challenge`);
  }
}

/**
 * @example
 *   const w = verifyWarrant(token, { trustedKeys: new Map([[kid, publicKey]]), now: Date.now(), revoked: new Set(), tenant: 'acme' });
 *   authorize(w, { tool: 'mail.read', op: 'read', resources: ['mail:thread/7'], args: { threadId: '7' } });
 */
export function verifyWarrant(token: unknown, options: VerifyOptions): VerifiedWarrant {
  const warrant = new VerifiedWarrant(BUILD, verifyChain(token, options.trustedKeys));
  checkStanding(warrant, options);
  return warrant;
}
