/**
 * The HTTP API's request and response schemas. Requests are checked by them before a handler runs,
 * and `/openapi.json` is generated from them, so the document can't drift from what is enforced.
 * Bodies reuse the library's own schemas (RunRequest, the policy); the library checks again.
 */
import { z } from '@hono/zod-openapi';
import { QUESTIONS } from '../check/questions.ts';
import { ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import { RUN_STATUSES } from '../core/result.ts';
import { LIMIT_CEILINGS, policySchema } from '../policy/schema.ts';
import { runRequestSchema } from '../policy/request.ts';

const codes = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export const errorSchema = z
  .object({ error: z.object({ code: z.enum(codes), message: z.string(), hint: z.string().openapi({ description: "The table's one line on what to do about this code." }) }) })
  .openapi('Error', { description: 'Every failure: a code from the one table (src/core/errors.ts), a message that says what to change, and the code\'s hint.' });

// Made before this module extended zod with .openapi(), so it is named through zod's own metadata.
export const policyDocumentSchema = policySchema.meta({ id: 'Policy', description: 'The policy document, version 1: default deny.' });

/** RunRequest without its tenant (the API key's) and with code as text; `input` is any JSON value. */
export const runBodySchema = runRequestSchema
  .omit({ tenant: true, code: true, input: true, policy: true })
  .extend({
    code: z.string().openapi({ description: 'The program: js, ts, python or sh (language, or the tier, says which).' }),
    input: z.unknown().optional().openapi({ description: 'A JSON value handed to an exported default function.' }),
    policy: policyDocumentSchema.optional(),
  })
  .openapi('RunRequest');

const usageSchema = z.object({ wallMs: z.number(), cpuMs: z.number(), memoryBytes: z.number() });
/** A coded error as a result carries it (run results, verify problems, warrant inspections). */
export const codedError = z.object({ code: z.enum(codes), message: z.string() });

export const runResultSchema = z
  .object({
    id: z.string(),
    tier: z.enum(['isolate', 'container']),
    status: z.enum(RUN_STATUSES),
    exitCode: z.number().int().nullable(),
    stdout: z.string(),
    stderr: z.string(),
    result: z.unknown(),
    error: codedError.nullable(),
    usage: usageSchema,
    violations: z.array(z.object({ door: z.enum(['tool', 'network', 'file', 'limit']), detail: z.string(), code: z.enum(codes) })),
  })
  .openapi('RunResult', { description: "The run's result. Its HTTP status is 200 when it ended ok, else its error code's status." });

export const sandboxBodySchema = z
  .strictObject({
    tier: z.literal('container').optional().openapi({ description: 'Sandboxes over HTTP are container workbenches; one-shot isolate runs go to /v1/runs.' }),
    policy: policyDocumentSchema.optional(),
    warrant: z.string().min(1).max(65_536).optional().openapi({ description: "A warrant token the sandbox acts under for its whole life: its egress must be granted by it too (verified at creation and at each request)." }),
  })
  .openapi('SandboxRequest');

export const sandboxSchema = z
  .object({
    id: z.string(),
    tier: z.literal('container'),
    createdAt: z.string(),
    limits: z.record(z.string(), z.number()).openapi({ description: "The limits it runs under: its policy's, the defaults for the rest." }),
  })
  .openapi('Sandbox');

export const idParams = z.object({ id: z.string().max(100).openapi({ param: { name: 'id', in: 'path' } }) });
export const commandParams = idParams.extend({ cmd: z.string().max(100).openapi({ param: { name: 'cmd', in: 'path' } }) });

export const execBodySchema = z
  .strictObject({
    argv: z.array(z.string().max(65_536)).min(1).max(4096).openapi({ example: ['python3', 'main.py'] }),
    stdin: z.string().optional(),
    timeoutMs: z.number().int().min(1).max(LIMIT_CEILINGS.wallMs).optional().openapi({ description: "Capped by the policy's limits.wallMs." }),
  })
  .openapi('ExecRequest');

export const execResultSchema = z
  .object({
    runId: z.string(),
    exitCode: z.number().int().nullable(),
    stdout: z.string(),
    stderr: z.string(),
    status: z.enum(RUN_STATUSES),
    error: codedError.nullable(),
    usage: usageSchema,
  })
  .openapi('ExecResult');

export const commandSchema = z
  .object({ id: z.string(), sandbox: z.string(), startedAt: z.string(), done: z.boolean(), result: execResultSchema.nullable() })
  .openapi('Command');

export const SSE_DESCRIPTION =
  'Server-sent events, each with an `id` (its number; send it back as Last-Event-ID to read on after it): `command` (data: {id, sandbox}, first on a new command), ' +
  '`stdout` and `stderr` (data: output text as it comes), then one `ended` (data: the ExecResult) or `failed` (data: {error: {code, message}}).';

const ENCODINGS = ['utf8', 'base64'] as const;

export const writeFileBodySchema = z
  .strictObject({
    path: z.string().min(1).max(4096).openapi({ example: 'main.py' }),
    content: z.string(),
    encoding: z.enum(ENCODINGS).optional().openapi({ description: 'How `content` is written: utf8 (default) or base64.' }),
  })
  .openapi('WriteFile');

export const readFileQuery = z.object({ path: z.string().min(1).max(4096), encoding: z.enum(ENCODINGS).optional() });
export const listFilesQuery = z.object({ path: z.string().max(4096).optional() });

export const fileContentSchema = z.object({ path: z.string(), encoding: z.enum(ENCODINGS), content: z.string() }).openapi('FileContent');

export const fileListSchema = z
  .object({ entries: z.array(z.object({ path: z.string(), type: z.enum(['file', 'dir', 'symlink', 'other']), size: z.number() })) })
  .openapi('FileList');

const seqText = z.string().regex(/^\d{1,15}$/);

export const auditQuerySchema = z.object({
  sandbox: z.string().max(100).optional(),
  run: z.string().max(100).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  decision: z.enum(['allow', 'deny']).optional(),
  since: z.string().max(40).optional().openapi({ description: 'ISO date or time, inclusive.' }),
  until: z.string().max(40).optional().openapi({ description: 'ISO date or time, exclusive.' }),
  afterSeq: seqText.optional().openapi({ description: "Paging: records after this seq (the last page's `next`)." }),
  limit: z.string().regex(/^\d{1,4}$/).optional().openapi({ description: 'At most this many records (1–1000, default 1000).' }),
});

export const auditRecordSchema = z
  .object({ seq: z.number().int(), prevHash: z.string(), hash: z.string(), at: z.string(), event: z.record(z.string(), z.unknown()) })
  .openapi('AuditRecord');

export const auditPageSchema = z
  .object({ records: z.array(auditRecordSchema), next: z.number().int().nullable().openapi({ description: 'afterSeq for the next page; null on the last.' }) })
  .openapi('AuditPage');

export const auditIdParams = z.object({ id: z.string().max(100).openapi({ param: { name: 'id', in: 'path' }, description: 'A seq number, run id (run_…) or sandbox id (sbx_…).' }) });

export const checkBodySchema = z
  .strictObject({
    tier: z.enum(['isolate', 'container']).optional(),
    policy: policyDocumentSchema.optional(),
    questions: z.array(z.enum(QUESTIONS)).min(1).max(QUESTIONS.length).optional(),
  })
  .openapi('CheckRequest');

const answerSchema = z.object({ answer: z.enum(['yes', 'no']), policy: z.string(), observed: z.string() });

export const checkReportSchema = z
  .object({ tier: z.enum(['isolate', 'container']), answers: z.partialRecord(z.enum(QUESTIONS), answerSchema), consistent: z.boolean() })
  .openapi('CheckReport');
