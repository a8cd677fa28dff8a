/**
 * A warrant token read for a person: whether it verifies here for the caller's tenant, and its
 * chain level by level: who signed and holds each link, what it grants (its parent's when it
 * states nothing), what it narrowed against its parent, when it lives, whether it is revoked.
 *
 * The verdict is verifyWarrant()'s. The levels are read from the links' payloads whether or not
 * they verify (as `airlock warrant inspect` does), except for a token rooted in another tenant:
 * its levels are not shown, and its error does not name that tenant.
 *
 * @example
 *   const view = inspectWarrant(token, { trustedKeys, revoked, now: Date.now(), tenant: 'acme' });
 */
import type { KeyObject } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import { decodeToken } from '../authority/envelope.ts';
import { payloadSchema, type GrantDoc, type Payload } from '../authority/payload.ts';
import { verifyWarrant } from '../authority/verify.ts';
import { AirlockError, toAirlockError } from '../core/errors.ts';
import { parseStrictJson } from '../core/strict-json.ts';
import type { inspectSchema, levelSchema } from './warrant-schemas.ts';

export type Inspection = z.infer<typeof inspectSchema>;
type Level = z.infer<typeof levelSchema>;

export interface InspectContext {
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  readonly revoked: ReadonlySet<string>;
  readonly now: number;
  readonly tenant: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The payloads of a token's links, unverified; throws WARRANT_INVALID when one can't be read. */
export function payloads(token: string): Payload[] {
  return decodeToken(token).links.map((link, i) => {
    const json = parseStrictJson(link.payload.toString('utf8'));
    const parsed = json.ok ? payloadSchema.safeParse(json.value) : null;
    if (parsed?.success !== true) throw new AirlockError('WARRANT_INVALID', `link ${i}'s payload is not one the warrant format allows`);
    return parsed.data;
  });
}

/** What `child` (its stated grants) gives up against the grants it narrows. */
function narrowedGrants(parent: readonly GrantDoc[], child: readonly GrantDoc[]): string[] {
  const out: string[] = [];
  const kept = new Set(child.map((g) => g.tool));
  for (const p of parent) if (!kept.has(p.tool)) out.push(`tool ${p.tool} removed`);
  for (const c of child) {
    const p = parent.find((g) => g.tool === c.tool);
    if (p === undefined) {
      out.push(`tool ${c.tool}: narrowed from ${parent.map((g) => g.tool).join(', ')}`);
      continue;
    }
    const ops = p.ops.includes('*') ? [] : p.ops.filter((op) => !c.ops.includes(op));
    if (ops.length > 0) out.push(`tool ${c.tool}: ops ${ops.join(', ')} removed`);
    if (p.ops.includes('*') && !c.ops.includes('*')) out.push(`tool ${c.tool}: ops limited to ${c.ops.join(', ')}`);
    if (c.resources !== undefined && JSON.stringify(c.resources) !== JSON.stringify(p.resources)) out.push(`tool ${c.tool}: resources limited to ${c.resources.join(', ')}`);
    const added = Object.keys(c.where ?? {}).filter((arg) => JSON.stringify(c.where?.[arg]) !== JSON.stringify(p.where?.[arg]));
    if (added.length > 0) out.push(`tool ${c.tool}: arguments constrained: ${added.join(', ')}`);
  }
  return out;
}

function levelsOf(chain: readonly Payload[], revoked: ReadonlySet<string>): Level[] {
  const levels: Level[] = [];
  let inherited: readonly GrantDoc[] = [];
  let up: Payload | undefined;
  for (const p of chain) {
    const narrowed = up === undefined ? [] : p.grants === undefined ? [] : narrowedGrants(inherited, p.grants);
    if (up !== undefined && p.exp < up.exp) narrowed.push(`expires sooner: ${iso(p.exp)}`);
    if (up !== undefined && p.maxDepth < up.maxDepth) narrowed.push(`may be delegated to depth ${p.maxDepth} (was ${up.maxDepth})`);
    if (up !== undefined && p.flow !== undefined) narrowed.push('states its own data-flow rules');
    const grants = p.grants ?? inherited;
    levels.push({
      level: p.depth,
      id: p.id,
      issuer: p.iss,
      holder: p.holder.kid,
      grants: grants.map((g) => ({ ...g })),
      inherits: p.grants === undefined,
      narrowed,
      notBefore: iso(p.iat),
      expires: iso(p.exp),
      maxDepth: p.maxDepth,
      revoked: revoked.has(p.id),
    });
    inherited = grants;
    up = p;
  }
  return levels;
}

export function inspectWarrant(token: string, ctx: InspectContext): Inspection {
  let chain: Payload[];
  try {
    chain = payloads(token);
  } catch (error) {
    return { valid: false, error: toAirlockError(error, 'WARRANT_INVALID').toJSON(), chain: [] };
  }
  if (chain[0]?.tenant !== ctx.tenant) {
    return { valid: false, error: { code: 'WARRANT_INVALID', message: "the warrant is not for your tenant: inspect and use only warrants issued for your API key's tenant" }, chain: [] };
  }
  const levels = levelsOf(chain, ctx.revoked);
  try {
    verifyWarrant(token, { trustedKeys: ctx.trustedKeys, now: ctx.now, revoked: ctx.revoked, tenant: ctx.tenant });
    return { valid: true, error: null, chain: levels };
  } catch (error) {
    return { valid: false, error: toAirlockError(error, 'WARRANT_INVALID').toJSON(), chain: levels };
  }
}
