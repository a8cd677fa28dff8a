/**
 * The warrant routes' schemas: inspect a token (its chain, level by level), and make one (issue
 * a root, or attenuate a chain) with a key the server holds. Grants and flow rules are the
 * warrant format's own schemas (docs/warrant-format.md), so the API can't accept what the
 * format refuses.
 */
import { z } from '@hono/zod-openapi';
import { KID, MAX_TOKEN_CHARS } from '../authority/envelope.ts';
import { ABSOLUTE_MAX_DEPTH, flowSchema, grantSchema } from '../authority/payload.ts';
import { codedError } from './schemas.ts';


/** The longest a warrant made here may live: a year (`airlock warrant issue --ttl` takes the same). */
export const MAX_TTL_MS = 365 * 86_400_000;

const token = z.string().min(1).max(MAX_TOKEN_CHARS).openapi({ description: 'A warrant token (aw1.…).' });
const grants = z.array(grantSchema).min(1).max(64).meta({ description: 'Grants as in the warrant format: [{ tool, ops, resources?, where? }].' });
const ttlMs = z.number().int().min(1000).max(MAX_TTL_MS).openapi({ description: 'How long it lives, in ms.' });
const maxDepth = z.number().int().min(0).max(ABSOLUTE_MAX_DEPTH).openapi({ description: 'How deep it may still be delegated.' });

export const inspectBodySchema = z.strictObject({ token }).openapi('WarrantInspectRequest');

export const levelSchema = z
  .object({
    level: z.number().int().openapi({ description: 'Its depth: 0 is the root.' }),
    id: z.string(),
    issuer: z.string().openapi({ description: 'The key id that signed this link.' }),
    holder: z.string().openapi({ description: "The key id of this link's holder (who may use it and sign the next)." }),
    grants: z.array(z.record(z.string(), z.unknown())).openapi({ description: 'What this level grants, as in the format; its parent\'s when it states none (`inherits`).' }),
    inherits: z.boolean(),
    narrowed: z.array(z.string()).openapi({ description: 'What this level removed or narrowed against its parent, one line each.' }),
    notBefore: z.string().openapi({ description: 'Its issue time (ISO).' }),
    expires: z.string(),
    maxDepth: z.number().int(),
    revoked: z.boolean().openapi({ description: "Whether this link's id is on the server's revocation list." }),
  })
  .openapi('WarrantLevel');

export const inspectSchema = z
  .object({
    valid: z.boolean().openapi({ description: "Whether the chain verifies here, now, for the key's tenant (signatures, chain, trusted root, expiry, revocation)." }),
    error: codedError.nullable(),
    chain: z.array(levelSchema).openapi({ description: "The links, root first; read even when it does not verify (its signatures' verdict is `valid`). Empty for a token that can't be read, or that is another tenant's." }),
  })
  .openapi('WarrantInspection');

const issueSchema = z.strictObject({
  key: z.string().regex(KID).optional().openapi({ description: 'The root key (its kid) among those the server holds and trusts; may be left out when it holds exactly one.' }),
  grants,
  ttlMs,
  flow: flowSchema.optional().meta({ description: 'Data-flow rules (declassify, endorse, waive).' }),
  maxDepth: maxDepth.optional(),
});

const attenuateSchema = z.strictObject({
  token,
  grants: grants.optional(),
  flow: flowSchema.optional(),
  ttlMs: ttlMs.optional().openapi({ description: "How long the child lives (default: as long as its parent); never past the parent's expiry." }),
  maxDepth: maxDepth.optional(),
});

export const warrantBodySchema = z
  .union([z.strictObject({ issue: issueSchema }), z.strictObject({ attenuate: attenuateSchema })])
  .openapi('WarrantRequest', { description: 'Either `issue` (a root warrant for the key\'s tenant) or `attenuate` (a narrower link on a bearer token of the key\'s tenant).' });

export const madeWarrantSchema = z
  .object({ token: z.string(), id: z.string(), chainHash: z.string(), depth: z.number().int(), expires: z.string() })
  .openapi('Warrant');
