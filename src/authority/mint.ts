/**
 * mintWarrant() and attenuateWarrant(): new links, signed over their exact payload bytes
 * (docs/warrant-format.md §2). Attenuation appends to the parent's links as received, never
 * re-serializing them, and refuses a child that obviously asks for more than its chain grants.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import { AirlockError } from '../core/errors.ts';
import { encodeToken, makeLink, signingPreimage, type TokenProof } from './envelope.ts';
import { generateSigningKey, publicRef, seedOf, type PublicKeyRef, type SigningKey } from './keys.ts';
import { ABSOLUTE_MAX_DEPTH, payloadSchema, problemsOf, protoKeyPath, type FlowDoc, type GrantDoc } from './payload.ts';
import type { VerifiedWarrant } from './verify.ts';
import { flowWidenings, grantCovers } from './widening.ts';

/** The depth limit a root gets when it names none: room for a few delegations. */
export const DEFAULT_MAX_DEPTH = 4;

interface LinkOptions {
  /**
   * Who may use the new link and sign the next one. Given: the token is bound to that key, and its
   * presenter proves possession at each use (for tokens that leave the host). Omitted: a fresh key
   * is made and travels in the token (a bearer token: keep it on the host, or short-lived).
   */
  readonly holder?: PublicKeyRef | KeyObject;
  /** Milliseconds since the epoch. */
  readonly now: number;
  readonly expiresAt: number;
  readonly flow?: FlowDoc;
  readonly maxDepth?: number;
}

export interface MintOptions extends LinkOptions {
  /** A root key the verifiers trust. */
  readonly signer: SigningKey;
  readonly tenant: string;
  readonly grants: readonly GrantDoc[];
}

export interface AttenuateOptions extends LinkOptions {
  /** The parent's holder key: only the holder of a link may attenuate it. Omitted: the key a bearer token carries. */
  readonly signer?: SigningKey;
  /** Omitted: this level adds no tool constraint (it inherits its parent's grants). */
  readonly grants?: readonly GrantDoc[];
}

const newWarrantId = (): string => `wr_${randomBytes(16).toString('base64url')}`;

/** The new link's holder, and the proof its token carries. */
function holderOf(holder: PublicKeyRef | KeyObject | undefined): { readonly ref: PublicKeyRef; readonly proof: TokenProof } {
  if (holder !== undefined) return { ref: 'raw' in holder ? holder : publicRef(holder), proof: { kind: 'bound' } };
  const fresh = generateSigningKey();
  return { ref: publicRef(fresh.publicKey), proof: { kind: 'bearer', seed: seedOf(fresh) } };
}

/** Checks the payload against the format and signs its canonical bytes. */
function signLink(signer: SigningKey, document: Record<string, unknown>): ReturnType<typeof makeLink> {
  const proto = protoKeyPath(document);
  if (proto !== null) throw new AirlockError('INVALID_REQUEST', `the warrant holds a "__proto__" key at ${proto}: it names an object's prototype, choose another name`);
  const parsed = payloadSchema.safeParse(document);
  if (!parsed.success) throw new AirlockError('INVALID_REQUEST', `the warrant does not fit the format: ${problemsOf(parsed.error)}`);
  const payload = Buffer.from(canonicalJson(document, 'a warrant'), 'utf8');
  return makeLink(signer.kid, payload, sign(null, signingPreimage(signer.kid, payload), signer.privateKey));
}

function common(o: LinkOptions, signer: SigningKey, holder: PublicKeyRef): Record<string, unknown> {
  if (!Number.isSafeInteger(o.now) || !Number.isSafeInteger(o.expiresAt)) throw new AirlockError('INVALID_REQUEST', 'now and expiresAt are whole milliseconds since the epoch');
  if (o.expiresAt <= o.now) throw new AirlockError('INVALID_REQUEST', 'expiresAt must be after now: a warrant that is already expired grants nothing');
  return {
    v: 1,
    id: newWarrantId(),
    iss: signer.kid,
    holder: { kid: holder.kid, key: holder.raw },
    iat: o.now,
    exp: o.expiresAt,
    ...(o.flow !== undefined && { flow: o.flow }),
  };
}

/**
 * A root link, signed by a root key.
 *
 * @example
 *   const token = mintWarrant({ signer: rootKey, tenant: 'acme', now, expiresAt: now + 3_600_000,
 *     grants: [{ tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*'] }] });
 */
export function mintWarrant(o: MintOptions): string {
  const holder = holderOf(o.holder);
  const link = signLink(o.signer, { ...common(o, o.signer, holder.ref), depth: 0, maxDepth: o.maxDepth ?? DEFAULT_MAX_DEPTH, parent: null, tenant: o.tenant, grants: o.grants });
  return encodeToken([link], holder.proof);
}

const widening = (message: string): AirlockError => new AirlockError('WARRANT_WIDENING', message);

/**
 * A child link appended to a verified chain, signed by the chain's holder.
 *
 * @example
 *   const child = attenuateWarrant(verified, { now, expiresAt: now + 60_000,
 *     grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/7'] }] });
 */
export function attenuateWarrant(parent: VerifiedWarrant, o: AttenuateOptions): string {
  const signer = o.signer ?? parent.bearer;
  if (signer === null) throw new AirlockError('INVALID_REQUEST', `the warrant is bound to holder ${parent.holder.kid}: attenuate it with that key (signer)`);
  if (signer.kid !== parent.holder.kid) {
    throw new AirlockError('WARRANT_INVALID', `only the chain's holder ${parent.holder.kid} may attenuate it; this key is ${signer.kid}`);
  }
  const depth = parent.depth + 1;
  if (depth > parent.maxDepth || depth > ABSOLUTE_MAX_DEPTH) throw widening(`the chain may grow to depth ${parent.maxDepth}; a link at depth ${depth} is past it`);
  const maxDepth = o.maxDepth ?? parent.maxDepth;
  if (maxDepth > parent.maxDepth) throw widening(`the depth limit may only shrink: ${maxDepth} is over the parent's ${parent.maxDepth}`);
  if (o.expiresAt > parent.expiresAt) throw widening(`the child would expire after its parent (${new Date(parent.expiresAt).toISOString()}): expiry only shrinks`);
  for (const level of parent.levels) {
    const parentGrants = level.payload.grants;
    if (o.grants !== undefined && parentGrants !== undefined) {
      const uncovered = o.grants.findIndex((g) => !parentGrants.some((p) => grantCovers(p, g)));
      if (uncovered >= 0) throw widening(`grant ${uncovered} (${o.grants[uncovered]?.tool ?? ''}) asks for more than any grant of level ${level.depth} (${level.id}) allows: narrow its tool, ops, resources or where`);
    }
    const flows = flowWidenings(level.payload.flow, o.flow);
    if (flows.length > 0) throw widening(`the ${flows.join(', ')} rules ask for more than level ${level.depth} (${level.id}) allows`);
  }
  const leaf = parent.links.at(-1);
  if (leaf === undefined) throw new AirlockError('INTERNAL', 'a verified chain has links');
  const holder = holderOf(o.holder);
  const link = signLink(signer, {
    ...common(o, signer, holder.ref),
    depth,
    maxDepth,
    parent: createHash('sha256').update(leaf.bytes).digest('hex'),
    ...(o.grants !== undefined && { grants: o.grants }),
  });
  return encodeToken([...parent.links, link], holder.proof);
}
