/**
 * The payload of one warrant link (docs/warrant-format.md §4, §6): its schema, with every string,
 * array and number bounded, and unknown keys refused. Parsed only after its signature verified.
 */
import { z } from 'zod';
import { parseStrictJson } from '../core/strict-json.ts';
import { TENANT_ID } from '../core/tenant.ts';
import { AirlockError } from '../core/errors.ts';
import { KID } from './envelope.ts';

/** The deepest link a chain may reach (the root is depth 0). */
export const ABSOLUTE_MAX_DEPTH = 8;
export const WARRANT_ID = /^wr_[A-Za-z0-9_-]{22}$/;
/** `mail.read`, `mail.*`, `**`: dotted segments of identifier characters and stars. */
export const TOOL_GLOB = /^[A-Za-z0-9_*]{1,64}(\.[A-Za-z0-9_*]{1,64}){0,7}$/;
export const VERB = /^[a-z][a-z0-9_-]{0,31}$/;
/**
 * `to`, `options.folder`, `to[]`: where an argument is, with `[]` for every element of an array.
 * Never `__proto__`: an object built from the document would lose that key, and with it the constraint.
 */
export const ARG_PATH = /^(?!(?:.*\.)?__proto__(?:\[\])?(?:\.|$))[A-Za-z_$][\w$]{0,63}(\[\])?(\.[A-Za-z_$][\w$]{0,63}(\[\])?){0,7}$/;
/** Resource globs and flow globs: printable ASCII (resources are escaped to it, §8). */
const PRINTABLE = /^[\x21-\x7e]{1,512}$/;
const MAX_MS = 2 ** 47;

const scalar = z.union([z.string().max(512), z.number(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof scalar>;

const constraintSchema = z
  .strictObject({
    eq: scalar.optional(),
    ne: scalar.optional(),
    in: z.array(scalar).min(1).max(256).optional(),
    lte: z.number().optional(),
    gte: z.number().optional(),
    glob: z.string().max(512).optional(),
    contains: scalar.optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { error: 'a constraint names at least one of eq ne in lte gte glob contains' });

const printable = z.string().regex(PRINTABLE, 'printable ASCII, 1–512 characters');

export const grantSchema = z.strictObject({
  tool: z.string().regex(TOOL_GLOB, 'a tool glob: dotted names of letters, digits, _ and *'),
  ops: z.array(z.union([z.literal('*'), z.string().regex(VERB, 'a lowercase verb')])).min(1).max(32),
  resources: z.array(printable).min(1).max(64).optional(),
  where: z
    .record(z.string().regex(ARG_PATH, 'an argument path: a.b, to[]'), constraintSchema)
    .refine((w) => Object.keys(w).length <= 16, { error: 'at most 16 constrained arguments' })
    .optional(),
});

export const flowSchema = z.strictObject({
  declassify: z.array(z.strictObject({ from: z.array(printable).min(1).max(32), to: z.array(printable).min(1).max(32) })).max(64).optional(),
  endorse: z.array(z.strictObject({ arg: printable, values: z.array(scalar).min(1).max(256) })).max(64).optional(),
  waive: z.array(printable).max(64).optional(),
});

const ms = z.number().int().min(0).max(MAX_MS);

export const payloadSchema = z.strictObject({
  v: z.literal(1),
  id: z.string().regex(WARRANT_ID),
  iss: z.string().regex(KID),
  holder: z.strictObject({ kid: z.string().regex(KID), key: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }),
  depth: z.number().int().min(0).max(ABSOLUTE_MAX_DEPTH),
  maxDepth: z.number().int().min(0).max(ABSOLUTE_MAX_DEPTH),
  parent: z.union([z.null(), z.string().regex(/^[0-9a-f]{64}$/)]),
  tenant: z.string().regex(TENANT_ID).optional(),
  iat: ms,
  exp: ms,
  grants: z.array(grantSchema).max(64).optional(),
  flow: flowSchema.optional(),
});

export type GrantDoc = z.infer<typeof grantSchema>;
export type FlowDoc = z.infer<typeof flowSchema>;
export type ConstraintDoc = z.infer<typeof constraintSchema>;
export type Payload = z.infer<typeof payloadSchema>;

/** The problems zod found, each with its path, on one line. */
export function problemsOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((i) => `${i.path.length === 0 ? '(payload)' : i.path.map(String).join('.')}: ${i.message}`)
    .join('; ');
}

/**
 * The path of the first own `__proto__` key in a parsed document, or null. Copying such a key into
 * an object sets the prototype instead, so schema parsing would drop it without a word: a `where`
 * constraint named so would vanish, widening its grant. Such documents are refused instead.
 */
export function protoKeyPath(value: unknown, at = '$', depth = 0): string | null {
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return `${at}.__proto__`;
    const found = protoKeyPath((value as Record<string, unknown>)[key], `${at}.${key}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** A verified link's payload bytes, parsed: strict UTF-8, strict JSON, the schema. */
export function parsePayload(bytes: Buffer, index: number): Payload {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new AirlockError('WARRANT_INVALID', `link ${index}'s payload is not UTF-8`);
  }
  const json = parseStrictJson(text);
  if (!json.ok) throw new AirlockError('WARRANT_INVALID', `link ${index}'s payload is not strict JSON: ${json.problem}`);
  const proto = protoKeyPath(json.value);
  if (proto !== null) throw new AirlockError('WARRANT_INVALID', `link ${index}'s payload holds a "__proto__" key at ${proto}`);
  const parsed = payloadSchema.safeParse(json.value);
  if (!parsed.success) throw new AirlockError('WARRANT_INVALID', `link ${index}'s payload does not fit the format: ${problemsOf(parsed.error)}`);
  return parsed.data;
}
