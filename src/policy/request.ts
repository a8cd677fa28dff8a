/** RunRequest: what every front end turns its input into. One strict schema; unknown keys are errors. */
import { z } from 'zod';
import { AirlockError } from '../core/errors.ts';
import type { PolicyDocument } from './schema.ts';

import { TENANT_ID } from '../core/tenant.ts';

export { TENANT_ID };

export const LANGUAGES = ['js', 'ts', 'wasm', 'python', 'sh'] as const;
export type Language = (typeof LANGUAGES)[number];

export const runRequestSchema = z.strictObject({
  tier: z.enum(['isolate', 'container']).optional(),
  tenant: z.string().regex(TENANT_ID, 'a tenant id is 1–63 of a-z 0-9 _ -, starting with a letter or digit').optional(),
  language: z.enum(LANGUAGES).optional(),
  /** Text, or bytes (checked to be UTF-8 for text languages; a module for wasm). */
  code: z.union([z.string(), z.instanceof(Uint8Array)]),
  /** A JSON value handed to an exported default function as its argument. */
  input: z.json().optional(),
  /** Checked by compilePolicy(), which reports every problem as INVALID_POLICY with its path. */
  policy: z.custom<PolicyDocument>(() => true).optional(),
  /** JSON Schema the result must match. */
  resultSchema: z.record(z.string(), z.unknown()).optional(),
  /** A warrant token (docs/warrant-format.md): every tool call and egress request must be granted by it too. */
  warrant: z.string().min(1).max(65_536).optional(),
});

export type RunRequest = z.input<typeof runRequestSchema>;
export type ParsedRunRequest = z.output<typeof runRequestSchema>;

export function parseRunRequest(input: unknown): ParsedRunRequest {
  const parsed = runRequestSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const list = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
  throw new AirlockError('INVALID_REQUEST', `the run request is invalid: ${list}`, { issues: parsed.error.issues });
}

/** How deep run input may nest. */
const MAX_INPUT_DEPTH = 256;

/**
 * Copies run input as plain JSON data (null, booleans, finite numbers, strings, arrays and plain
 * objects; no cycles, BigInt, functions, class instances or arrays with another prototype),
 * wherever it came from: the library's Sandbox.run takes it without the request schema. Each
 * property is read once, into the copy, so what was checked is what is sent (a getter can't
 * answer differently later). Throws INVALID_REQUEST naming where.
 */
export function plainInput(value: unknown): unknown {
  const ancestors = new Set<object>();
  const copy = (v: unknown, at: string, depth: number): unknown => {
    const fail = (why: string): never => {
      throw new AirlockError('INVALID_REQUEST', `input${at} ${why}: pass plain JSON data as input`);
    };
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : fail('is not a finite number');
    if (typeof v !== 'object') return fail(v === undefined ? 'is undefined' : `is a ${typeof v}`);
    if (depth > MAX_INPUT_DEPTH) fail(`nests deeper than ${MAX_INPUT_DEPTH} levels`);
    if (ancestors.has(v)) fail('refers back to itself (a cycle)');
    const proto: unknown = Object.getPrototypeOf(v);
    const isArray = Array.isArray(v);
    if (isArray ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) fail(isArray ? 'is an array of another kind' : 'is not a plain object or array');
    ancestors.add(v);
    const source = v as Record<string, unknown>;
    const out: unknown = isArray
      ? Array.from({ length: (v as unknown[]).length }, (_x, i) => copy(source[i], `${at}[${i}]`, depth + 1))
      : Object.fromEntries(Object.keys(v).map((key) => [key, copy(source[key], `${at}.${key}`, depth + 1)]));
    ancestors.delete(v);
    return out;
  };
  return value === undefined ? undefined : copy(value, '', 0);
}
