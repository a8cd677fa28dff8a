/**
 * The policy document, version 1: default deny. A door that is not named here is closed.
 * Unknown keys are errors everywhere, so a grant this version does not understand is refused
 * instead of being silently ignored.
 */
import { z } from 'zod';

export const TOOL_OPERATIONS = ['read', 'write', 'delete', 'send', 'compute'] as const;
export type ToolOperation = (typeof TOOL_OPERATIONS)[number];

/** A JSON Schema object; checked for validity by compile(), not here. */
const jsonSchema = z.record(z.string(), z.unknown());

export const toolGrantSchema = z.strictObject({
  /** What the tool does to the world; warrants and labels reason about it. */
  operation: z.enum(TOOL_OPERATIONS),
  /** JSON Schema of the tool's one argument, checked on the host at every call. */
  args: jsonSchema,
  description: z.string().max(1000).optional(),
});

/** Upper bounds a policy may ask for: a policy can't lift a sandbox out of its limits. */
export const LIMIT_CEILINGS = {
  wallMs: 600_000,
  cpuMs: 600_000,
  memoryMiB: 4096,
  outputBytes: 64 * 1024 * 1024,
  toolCalls: 100_000,
  toolMs: 600_000,
  resultBytes: 64 * 1024 * 1024,
  codeBytes: 16 * 1024 * 1024,
} as const;

/** What a sandbox gets when the policy says nothing: small. */
export const LIMIT_DEFAULTS = {
  wallMs: 5_000,
  cpuMs: 2_000,
  memoryMiB: 64,
  outputBytes: 64 * 1024,
  toolCalls: 100,
  toolMs: 10_000,
  resultBytes: 1024 * 1024,
  codeBytes: 1024 * 1024,
} as const;

const limit = (max: number, min = 1) => z.number().int().min(min).max(max);

export const limitsSchema = z.strictObject({
  wallMs: limit(LIMIT_CEILINGS.wallMs).optional(),
  cpuMs: limit(LIMIT_CEILINGS.cpuMs).optional(),
  // isolated-vm refuses heaps under 8 MiB.
  memoryMiB: limit(LIMIT_CEILINGS.memoryMiB, 8).optional(),
  outputBytes: limit(LIMIT_CEILINGS.outputBytes, 0).optional(),
  toolCalls: limit(LIMIT_CEILINGS.toolCalls, 0).optional(),
  toolMs: limit(LIMIT_CEILINGS.toolMs).optional(),
  resultBytes: limit(LIMIT_CEILINGS.resultBytes).optional(),
  codeBytes: limit(LIMIT_CEILINGS.codeBytes).optional(),
});

/** Tool names are identifiers, so `tools.name(...)` works and no name can shadow a built-in. */
export const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const policySchema = z.strictObject({
  version: z.literal(1),
  tools: z.record(z.string().regex(TOOL_NAME, 'a tool name is an identifier: letters, digits, _'), toolGrantSchema).optional(),
  limits: limitsSchema.optional(),
});

export type PolicyDocument = z.infer<typeof policySchema>;
export type ToolGrant = z.infer<typeof toolGrantSchema>;
export type LimitsDocument = z.infer<typeof limitsSchema>;
export type Limits = { readonly [K in keyof typeof LIMIT_DEFAULTS]: number };

/** The policy that grants nothing and sets the default limits. */
export const DENY_ALL: PolicyDocument = { version: 1 };
