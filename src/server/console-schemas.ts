/**
 * The schemas of the routes the web console reads (runs, their events, audit integrity, warrants,
 * stored policies): answers built from the audit log's records, and the requests that ask for
 * them. `/openapi.json` is generated from these, as from schemas.ts.
 */
import { z } from '@hono/zod-openapi';
import { QUESTIONS } from '../check/questions.ts';
import { DOORS } from '../policy/decide.ts';
import { codedError } from './schemas.ts';


export const RUN_VIEW_STATUSES = ['ok', 'error', 'running'] as const;

export const runSummarySchema = z
  .object({
    id: z.string(),
    tier: z.enum(['isolate', 'container']),
    status: z.enum(RUN_VIEW_STATUSES).openapi({ description: 'ok: ended ok; error: ended any other way (errorCode says how); running: no run.ended recorded yet.' }),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    durationMs: z.number().nullable().openapi({ description: "run.ended's time minus run.started's, as the host's clock recorded them." }),
    errorCode: z.string().nullable(),
    denials: z.number().int().openapi({ description: "The run's denied decisions, as recorded." }),
    tools: z.array(z.string()).openapi({ description: 'The distinct tools the run called (allowed or denied), in the order first called.' }),
    deniedCodes: z.array(z.string()).openapi({ description: "The distinct codes of the run's denials." }),
    label: z.array(z.string()).nullable().openapi({ description: 'The label run.ended recorded, one "source integrity" per atom; null when labels were not kept.' }),
  })
  .openapi('RunSummary');

export const runListQuery = z.object({
  status: z.enum(RUN_VIEW_STATUSES).optional(),
  tier: z.enum(['isolate', 'container']).optional(),
  tool: z.string().max(128).optional().openapi({ description: 'Runs that called this tool.' }),
  code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/).optional().openapi({ description: 'Runs that ended with this error code, or were denied with it.' }),
  since: z.string().max(40).optional().openapi({ description: 'Runs started at or after this ISO date or time.' }),
  until: z.string().max(40).optional().openapi({ description: 'Runs started before this ISO date or time.' }),
  limit: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: 'At most this many runs (1–200, default 50).' }),
  before: z.string().regex(/^\d{1,15}$/).optional().openapi({ description: "Paging: the last page's `next`." }),
});

export const runPageSchema = z
  .object({
    runs: z.array(runSummarySchema),
    next: z.string().nullable().openapi({
      description: 'Pass as `before` for the next (older) page; null when there is none. A filtered page may hold fewer runs than asked while `next` is not null: each page reads a bounded number of runs.',
    }),
  })
  .openapi('RunPage');

export const runIdParams = z.object({ id: z.string().max(100).openapi({ param: { name: 'id', in: 'path' }, example: 'run_…' }) });

export const decisionSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    door: z.enum(DOORS).openapi({ description: "decide()'s door: the recorded door (network → egress; a limit → quota, denials or lifetime)." }),
    target: z.string().openapi({ description: 'What was asked for, as recorded: a tool, a request, a path, a limit.' }),
    verdict: z.enum(['allow', 'deny']),
    code: z.string().nullable().openapi({ description: 'The recorded code: an allow code (TOOL_GRANTED, …) or an error code.' }),
    reason: z.string().nullable().openapi({ description: 'The recorded message, when there is one.' }),
    label: z.array(z.string()).nullable().openapi({ description: 'The run\'s label as the call found it, as recorded ("source integrity").' }),
  })
  .openapi('Decision');

const routeSummary = z.object({
  name: z.string().nullable(),
  host: z.string(),
  scheme: z.string(),
  port: z.number().nullable(),
  methods: z.array(z.string()).nullable(),
  paths: z.array(z.string()).nullable(),
  forwardTo: z.string().nullable(),
  secret: z.string().nullable(),
});

export const limitsSchema = z.record(z.string(), z.number()).openapi('Limits');

export const policySummarySchema = z
  .object({
    hash: z.string(),
    tools: z.array(z.object({ name: z.string(), operation: z.string() })),
    routes: z.array(routeSummary),
    files: z.array(z.object({ path: z.string(), at: z.string() })),
    env: z.array(z.string()).openapi({ description: 'Names only.' }),
    secrets: z.array(z.string()).openapi({ description: 'Names only: values never leave the host.' }),
    limits: limitsSchema,
  })
  .openapi('PolicySummary');

export const runDetailSchema = runSummarySchema
  .extend({
    codeHash: z.string(),
    code: z.string().nullable().openapi({ description: 'The code as run.started recorded it, its first 65,536 characters (a longer one ends with a mark, its length and SHA-256).' }),
    language: z.string(),
    tierReason: z.string().nullable(),
    policyHash: z.string(),
    policy: policySummarySchema.nullable().openapi({ description: 'The doors the policy granted, from the document run.started recorded; null for records written before it was kept.' }),
    warrant: z
      .object({ id: z.string(), chainHash: z.string(), depth: z.number().int().nullable(), holder: z.string().nullable(), expires: z.string().nullable() })
      .nullable(),
    decisions: z.array(decisionSchema),
    decisionsTruncated: z.boolean().openapi({ description: 'True when the run has more decisions than are listed (the first ones are).' }),
    usage: z.object({ cpuMs: z.number(), wallMs: z.number(), memoryMiB: z.number() }).nullable(),
    limits: limitsSchema.nullable(),
    output: z
      .object({ stdout: z.string(), stderr: z.string(), result: z.string().nullable().openapi({ description: 'The result as JSON text.' }) })
      .nullable()
      .openapi({ description: 'What run.ended recorded of the output, each part bounded; null when none was recorded.' }),
    error: codedError.nullable(),
    parent: z.string().nullable().openapi({ description: "A sub-run's parent run." }),
  })
  .openapi('RunDetail');

export const RUN_EVENTS_DESCRIPTION =
  "Server-sent events: `run.started` and `run.ended`, each's data a RunSummary, each's `id` its audit seq (send it back as Last-Event-ID, or ?afterSeq=, to read on after it). " +
  'Live from the moment of connection unless a seq is given; only the key\'s tenant\'s runs. A comment line every 15 s keeps the connection alive.';

export const runEventsQuery = z.object({
  afterSeq: z.string().regex(/^\d{1,15}$/).optional().openapi({ description: 'Replay the runs\' events after this audit seq, then go on live.' }),
});

export const auditVerifySchema = z
  .object({
    ok: z.boolean(),
    records: z.number().int().openapi({ description: 'Records that hold, from the first (the whole log, every tenant: a count only).' }),
    head: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
    checkpoint: z.object({ seq: z.number().int(), at: z.string(), signedBy: z.string() }).nullable(),
    problem: codedError.nullable(),
  })
  .openapi('AuditVerify');

export const policyNameParams = z.object({
  // A policy's name: what URLs and the console show.
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'a policy name is 1–64 of a-z 0-9 _ . -, starting with a letter or digit')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'mail-reader' }),
});

export const storedPolicySchema = z
  .object({
    name: z.string(),
    hash: z.string().openapi({ description: "The compiled policy's hash: what run.started records as policyHash for a run under it." }),
    updatedAt: z.string(),
    summary: policySummarySchema,
    policy: z.record(z.string(), z.unknown()).openapi({ description: 'The document as stored.' }),
  })
  .openapi('StoredPolicy');

export const policyListSchema = z
  .object({ policies: z.array(storedPolicySchema.omit({ policy: true })) })
  .openapi('StoredPolicies');

export const policyCheckBodySchema = z
  .strictObject({
    tier: z.enum(['isolate', 'container']).optional(),
    questions: z.array(z.enum(QUESTIONS)).min(1).max(QUESTIONS.length).optional(),
  })
  .openapi('StoredPolicyCheckRequest');
