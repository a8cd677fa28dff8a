/**
 * The schemas of the library's option objects (createAirlock, airlock.sandbox, sandbox.run), strict
 * as RunRequest is (see core/options.ts). Quotas keep their own checks (quotas.ts), which name the
 * quota; policies are compiled (INVALID_POLICY); tenant ids are checked where they are used.
 */
import { z } from 'zod';
import { checkOptions, fn, withMethods } from '../core/options.ts';
import { DEFAULT_LIMITS } from '../egress/exchange.ts';
import { LANGUAGES } from '../policy/request.ts';
import type { AirlockOptions, SandboxOptions } from './airlock.ts';
import type { SandboxRunOptions } from './sandbox.ts';

const positive = z.number().int().min(1);
const gatewayLimits = z.strictObject(Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, positive.optional()])));

const airlockOptionsSchema = z.strictObject({
  home: z.string().min(1).optional(),
  audit: withMethods(['append', 'flush', 'close'], 'an AuditSink').optional(),
  checkpoint: z
    .strictObject({
      dir: z.string().min(1).optional(),
      witnesses: z.array(withMethods(['publish', 'latest'], 'a CheckpointWitness')).optional(),
      everyRecords: positive.optional(),
      everyMs: positive.optional(),
    })
    .optional(),
  tools: z.record(z.string(), fn('a tool handler: a function (args, context)')).optional(),
  isolate: z.strictObject({ workersPerTenant: positive.max(256).optional() }).optional(),
  secrets: withMethods(['get'], 'a SecretSource').optional(),
  egress: z.strictObject({ resolve: fn('a resolver function').optional(), ca: z.string().optional(), limits: gatewayLimits.optional() }).optional(),
  // The quotas' values are checked by Quotas itself (quotas.ts), which names each one.
  quotas: z.strictObject({ default: z.unknown().optional(), tenants: z.unknown().optional() }).optional(),
});

const airlockOptionsChecked = airlockOptionsSchema.refine((o) => o.audit === undefined || o.checkpoint === undefined, {
  error: 'checkpoint applies to the default audit log only: drop it, or checkpoint your own sink',
  path: ['checkpoint'],
});

const sandboxOptionsSchema = z.strictObject({
  tenant: z.string().optional(),
  tier: z.enum(['isolate', 'container']).optional(),
  policy: z.unknown().optional(),
});

const runOptionsSchema = z.strictObject({
  language: z.enum(LANGUAGES).optional(),
  input: z.unknown().optional(),
  resultSchema: z.record(z.string(), z.unknown()).optional(),
});

export function checkAirlockOptions(given: AirlockOptions | undefined): AirlockOptions {
  return checkOptions(airlockOptionsChecked, given, 'createAirlock options', 'home, audit, checkpoint { dir, witnesses, everyRecords, everyMs }, tools, isolate { workersPerTenant }, secrets, egress { resolve, ca, limits }, quotas { default, tenants }');
}

export function checkSandboxOptions(given: SandboxOptions | undefined): SandboxOptions {
  return checkOptions(sandboxOptionsSchema, given, 'sandbox options', "tenant, tier ('isolate' or 'container'), policy");
}

export function checkRunOptions(given: SandboxRunOptions | undefined): SandboxRunOptions {
  return checkOptions(runOptionsSchema, given, 'run options', 'language, input, resultSchema');
}
