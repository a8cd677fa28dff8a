/**
 * The schemas of the library's option objects (createAirlock, airlock.sandbox, sandbox.run), strict
 * as RunRequest is (see core/options.ts). Quotas keep their own checks (quotas.ts), which name the
 * quota; policies are compiled (INVALID_POLICY); tenant ids are checked where they are used.
 */
import { z } from 'zod';
import { checkOptions, fn, withMethods } from '../core/options.ts';
import { DEFAULT_LIMITS } from '../egress/limits.ts';
import { LANGUAGES } from '../policy/request.ts';
import type { CheckpointSettings } from '../audit/checkpoint-config.ts';
import type { AuditSink } from '../audit/event.ts';
import { AUDIT_DURABILITIES, DEFAULT_FLUSH_MS, MAX_FLUSH_MS, type AuditDurabilitySettings } from '../audit/wal-sync.ts';
import type { Tier } from '../core/result.ts';
import type { EgressGatewayOptions } from '../egress/gateway.ts';
import type { CordonMap } from '../isolate/cordons.ts';
import type { SecretSource } from '../egress/secrets.ts';
import { TOOL_OPERATION, type PolicyDocument } from '../policy/schema.ts';
import type { LabelOptions, WarrantOptions } from './authority-host.ts';
import type { QuotaOptions } from './quotas.ts';
import type { SandboxRunOptions } from './sandbox.ts';
import type { ToolEntry } from './tool-catalog.ts';

export interface AirlockOptions {
  /** State directory; default $AIRLOCK_HOME or ~/.airlock. */
  readonly home?: string;
  /**
   * Where audit events go; default: the hash-chained SQLite log at $AIRLOCK_HOME/audit.db, its head
   * signed at intervals and at close into checkpoints kept outside AIRLOCK_HOME (see `checkpoint`).
   * A sink of your own, or the default log's durability: `{ durability: 'durable' }` (the default:
   * a run's result returns after its events are fsynced) or `{ durability: 'batched', flushMs: 5 }`
   * (written to the OS before the result returns, so a crash of airlock loses nothing; fsynced
   * within flushMs, so a power loss loses at most that window). See src/audit/wal-sync.ts.
   */
  readonly audit?: AuditSink | AuditDurabilitySettings;
  /**
   * Signed checkpoints of the default audit log: the key's and the file witness's directory
   * (default $AIRLOCK_CHECKPOINT_DIR or /var/lib/airlock), more witnesses, and how often to sign.
   * Not allowed with `audit` (a sink of your own is yours to checkpoint).
   */
  readonly checkpoint?: CheckpointSettings;
  /** Host functions a policy may grant by name. They run on the host, never in a sandbox. */
  readonly tools?: Readonly<Record<string, ToolEntry>>;
  /**
   * Isolate workers: per tenant and lane, per cordon and lane, for the whole host (`maxWorkers`), how long
   * an idle one lives (`idleWorkerMs`), and the host's trust cordons (cordon name → tenant ids):
   * tenants of one cordon share worker processes, each run still in a fresh isolate; a tenant in
   * no cordon never shares one (README, "Tenants on one host").
   */
  readonly isolate?: { readonly workersPerTenant?: number; readonly workersPerCordon?: number; readonly maxWorkers?: number; readonly idleWorkerMs?: number; readonly cordons?: CordonMap };
  /**
   * Where credentialed routes' secrets come from (secretsFromEnv / secretsFromFile): the host's,
   * never the request's. Default: none, so a credentialed route fails with SECRET_UNAVAILABLE.
   */
  readonly secrets?: SecretSource;
  /** Egress gateway settings: a resolver or an extra CA (tests, private upstreams). */
  readonly egress?: Pick<EgressGatewayOptions, 'resolve' | 'ca' | 'limits'>;
  /** Per-tenant quotas (src/runtime/quotas.ts), counted across every host using this home. */
  readonly quotas?: QuotaOptions;
  /** Task-scoped warrants (docs/warrant-format.md): the root keys a run's warrant must chain to, and revocations. */
  readonly warrants?: WarrantOptions;
  /** Information-flow labels (docs/labels.md): a run's user and trusted principals, and objects' current readers. */
  readonly labels?: LabelOptions;
}

export interface SandboxOptions {
  readonly tenant?: string;
  readonly tier?: Tier;
  readonly policy?: PolicyDocument;
  /**
   * A warrant every run and exec of the sandbox acts under, for its whole life: verified when the
   * sandbox is made (a refused one makes nothing), and at each tool call and egress request after.
   */
  readonly warrant?: string;
}

export type ContainerSandboxOptions = SandboxOptions & { readonly tier: 'container' };

const positive = z.number().int().min(1);
const gatewayLimits = z.strictObject(Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, positive.optional()])));

const SINK_METHODS = ['append', 'flush', 'close'] as const;

/** True for an AuditSink of the caller's own (an object with its methods), false for durability settings. */
export function isAuditSink(value: unknown): value is AuditSink {
  return typeof value === 'object' && value !== null && SINK_METHODS.every((n) => typeof (value as Record<string, unknown>)[n] === 'function');
}

const FLUSH_MS = `must be a whole number of milliseconds from 1 to ${MAX_FLUSH_MS} (default ${DEFAULT_FLUSH_MS}): the longest a power loss can lose in 'batched' mode`;
const auditSettingsSchema = z
  .strictObject({
    durability: z.enum(AUDIT_DURABILITIES, { error: "must be 'durable' (the default: a run's result returns after its events are fsynced) or 'batched' (written to the OS before the result returns, fsynced within audit.flushMs)" }).optional(),
    flushMs: z.number({ error: FLUSH_MS }).int({ error: FLUSH_MS }).min(1, { error: FLUSH_MS }).max(MAX_FLUSH_MS, { error: FLUSH_MS }).optional(),
  })
  .refine((o) => o.flushMs === undefined || o.durability === 'batched', { error: "flushMs applies to durability: 'batched' only: add durability: 'batched', or drop flushMs", path: ['flushMs'] });

// A sink or the default log's settings, told apart by the sink's methods, so a bad setting gets
// its own message rather than a union's "invalid input".
const auditSchema = z.unknown().superRefine((value, ctx) => {
  if (isAuditSink(value)) return;
  if (typeof value !== 'object' || value === null) {
    ctx.addIssue({ code: 'custom', message: `expected an AuditSink (an object with ${SINK_METHODS.join(', ')}) or { durability: 'durable' | 'batched', flushMs }` });
    return;
  }
  for (const issue of auditSettingsSchema.safeParse(value).error?.issues ?? []) ctx.addIssue({ ...issue, code: 'custom', path: issue.path });
});

const airlockOptionsSchema = z.strictObject({
  home: z.string().min(1).optional(),
  audit: auditSchema.optional(),
  checkpoint: z
    .strictObject({
      dir: z.string().min(1).optional(),
      witnesses: z.array(withMethods(['publish', 'latest'], 'a CheckpointWitness')).optional(),
      everyRecords: positive.optional(),
      everyMs: positive.optional(),
    })
    .optional(),
  tools: z
    .record(
      z.string(),
      z.union([
        fn('a tool handler: a function (args, context)'),
        z.strictObject({
          handler: fn('a tool handler: a function (args, context)'),
          operation: z.string().regex(TOOL_OPERATION, 'an operation is a lowercase verb: a-z, digits, _ or -, up to 32 (read, write, send, pay…)'),
          resources: z.array(z.string().min(1).max(512)).max(32).optional(),
          labels: z.unknown().optional(),
          description: z.string().max(1000).optional(),
        }),
      ]),
    )
    .optional(),
  isolate: z
    .strictObject({
      workersPerTenant: positive.max(256).optional(),
      workersPerCordon: positive.max(1024).optional(),
      maxWorkers: positive.max(100_000).optional(),
      idleWorkerMs: positive.optional(),
      // Names and ids are checked by Cordons itself (isolate/cordons.ts), which names each one.
      cordons: z.record(z.string(), z.array(z.string())).optional(),
    })
    .optional(),
  secrets: withMethods(['get'], 'a SecretSource').optional(),
  egress: z.strictObject({ resolve: fn('a resolver function').optional(), ca: z.string().optional(), limits: gatewayLimits.optional() }).optional(),
  // The quotas' values are checked by Quotas itself (quotas.ts), which names each one.
  quotas: z.strictObject({ default: z.unknown().optional(), tenants: z.unknown().optional() }).optional(),
  warrants: z
    .strictObject({
      trustedKeys: z.union([z.instanceof(Map), fn('a function answering the trusted keys by key id')]),
      revoked: fn('a function answering the revoked warrant ids').optional(),
    })
    .optional(),
  labels: z
    .strictObject({
      principals: fn('a function (tenant) answering { user, trusted }').optional(),
      kinds: z.record(z.string(), withMethods(['currentLabel'], 'a kind lookup { currentLabel(id) }')).optional(),
    })
    .optional(),
});

const airlockOptionsChecked = airlockOptionsSchema.refine((o) => !isAuditSink(o.audit) || o.checkpoint === undefined, {
  error: 'checkpoint applies to the default audit log only: drop it, or checkpoint your own sink',
  path: ['checkpoint'],
});

const sandboxOptionsSchema = z.strictObject({
  tenant: z.string().optional(),
  tier: z.enum(['isolate', 'container']).optional(),
  policy: z.unknown().optional(),
  warrant: z.string().min(1).optional(),
});

const runOptionsSchema = z.strictObject({
  language: z.enum(LANGUAGES).optional(),
  input: z.unknown().optional(),
  resultSchema: z.record(z.string(), z.unknown()).optional(),
});

export function checkAirlockOptions(given: AirlockOptions | undefined): AirlockOptions {
  return checkOptions(airlockOptionsChecked, given, 'createAirlock options', "home, audit (an AuditSink, or { durability: 'durable' | 'batched', flushMs }), checkpoint { dir, witnesses, everyRecords, everyMs }, tools, isolate { workersPerTenant, workersPerCordon, maxWorkers, idleWorkerMs, cordons }, secrets, egress { resolve, ca, limits }, quotas { default, tenants }, warrants { trustedKeys, revoked }, labels { principals, kinds }");
}

export function checkSandboxOptions(given: SandboxOptions | undefined): SandboxOptions {
  return checkOptions(sandboxOptionsSchema, given, 'sandbox options', "tenant, tier ('isolate' or 'container'), policy, warrant");
}

export function checkRunOptions(given: SandboxRunOptions | undefined): SandboxRunOptions {
  return checkOptions(runOptionsSchema, given, 'run options', 'language, input, resultSchema');
}
