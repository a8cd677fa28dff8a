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
});

export type RunRequest = z.input<typeof runRequestSchema>;
export type ParsedRunRequest = z.output<typeof runRequestSchema>;

export function parseRunRequest(input: unknown): ParsedRunRequest {
  const parsed = runRequestSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const list = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
  throw new AirlockError('INVALID_REQUEST', `the run request is invalid: ${list}`, { issues: parsed.error.issues });
}
