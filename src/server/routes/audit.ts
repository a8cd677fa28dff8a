/**
 * The tenant's own audit records: a filtered page, or one record / run / sandbox by id. Never
 * another tenant's. And whether the whole log holds (GET /v1/audit/verify): counts and the head
 * only, what `airlock audit verify` says, no record of anyone.
 */
import { createRoute, type z } from '@hono/zod-openapi';
import type { AuditRecord } from '../../audit/chain.ts';
import { checkpointVerifier } from '../../audit/checkpoint-config.ts';
import { isoTime, type AuditQuery, type AuditStore } from '../../audit/store.ts';
import { verifyChain, type VerifyOptions } from '../../audit/verify.ts';
import { AirlockError, toAirlockError } from '../../core/errors.ts';
import { auditVerifySchema } from '../console-schemas.ts';
import { auditIdParams, auditPageSchema, auditQuerySchema } from '../schemas.ts';
import { ERRORS, json, SECURITY, type App, type RouteParts } from './common.ts';

const tags = ['audit'];

const query = createRoute({
  method: 'get',
  path: '/v1/audit',
  tags,
  summary: "The tenant's audit records, oldest first, a page at a time",
  security: SECURITY,
  request: { query: auditQuerySchema },
  responses: { 200: { description: 'A page of records', content: json(auditPageSchema) }, ...ERRORS },
});

const show = createRoute({
  method: 'get',
  path: '/v1/audit/{id}',
  tags,
  summary: "One record by seq, or every record of a run (run_…) or sandbox (sbx_…), within the tenant",
  security: SECURITY,
  request: { params: auditIdParams },
  responses: { 200: { description: 'The records', content: json(auditPageSchema) }, ...ERRORS },
});

const verify = createRoute({
  method: 'get',
  path: '/v1/audit/verify',
  tags,
  summary: 'Does the whole audit log hold? Its chain from the first record, against the latest signed checkpoint',
  description: "What `airlock audit verify` checks, over every tenant's records; the answer holds only counts, the head and the checkpoint, nothing of any record.",
  security: SECURITY,
  responses: { 200: { description: 'The verdict (ok false, with its problem, when the log does not hold)', content: json(auditVerifySchema) }, ...ERRORS },
});

type Verdict = z.infer<typeof auditVerifySchema>;

/** Verifies the whole log against the checkpoint witness and key `airlock audit verify` uses by default. */
async function verifyLog(store: AuditStore, home: string): Promise<Verdict> {
  let options: VerifyOptions;
  try {
    const verifier = checkpointVerifier({ home, env: process.env, key: 'read' });
    const latest = await verifier.witness.latest(store.logId);
    options = latest === null ? {} : { checkpoint: { checkpoint: latest, trusted: verifier.publicKey === null ? [] : [verifier.publicKey] } };
  } catch (error) {
    // Fail closed: a witness or key that can't be read is a log that can't be said to hold.
    const e = toAirlockError(error, 'AUDIT_UNAVAILABLE');
    return { ok: false, records: 0, head: null, checkpoint: null, problem: e.toJSON() };
  }
  const r = await verifyChain(store, options);
  const cp = r.checkpoint;
  return {
    ok: r.ok,
    records: r.count,
    head: r.head.seq === 0 ? null : { seq: r.head.seq, hash: r.head.hash },
    checkpoint: cp === null ? null : { seq: cp.seq, at: cp.at, signedBy: cp.key },
    problem: r.ok ? null : { code: r.code, message: `at seq ${r.brokenAt}: ${r.reason}` },
  };
}

function page(records: AuditRecord[], limit: number): { records: AuditRecord[]; next: number | null } {
  const last = records[records.length - 1];
  return { records, next: records.length === limit && last !== undefined ? last.seq : null };
}

export function auditRoutes(app: App, parts: RouteParts): void {
  // A verify reads the whole log: callers that ask while one runs share its answer.
  let verifying: Promise<Verdict> | null = null;
  // Before /v1/audit/{id}: "verify" is not a record id.
  app.openapi(verify, async (c) => {
    verifying ??= verifyLog(parts.audit, parts.home).finally(() => (verifying = null));
    return c.json(await verifying, 200);
  });

  app.openapi(query, async (c) => {
    const q = c.req.valid('query');
    const limit = q.limit === undefined ? 1000 : Number(q.limit);
    // The tenant is the key's, always: a query can only narrow within it.
    const filter: AuditQuery = {
      tenant: c.var.caller.tenant,
      limit,
      ...(q.sandbox !== undefined && { sandbox: q.sandbox }),
      ...(q.run !== undefined && { run: q.run }),
      ...(q.status !== undefined && { status: q.status }),
      ...(q.decision !== undefined && { decision: q.decision }),
      ...(q.since !== undefined && { since: isoTime(q.since, 'since') }),
      ...(q.until !== undefined && { until: isoTime(q.until, 'until') }),
      ...(q.afterSeq !== undefined && { afterSeq: Number(q.afterSeq) }),
    };
    return c.json(page(await parts.audit.query(filter), limit), 200);
  });

  app.openapi(show, async (c) => {
    const { id } = c.req.valid('param');
    const tenant = c.var.caller.tenant;
    const by: AuditQuery | undefined = /^\d{1,15}$/.test(id) ? { seq: Number(id) } : id.startsWith('run_') ? { run: id } : id.startsWith('sbx_') ? { sandbox: id } : undefined;
    if (by === undefined) throw new AirlockError('INVALID_REQUEST', `${JSON.stringify(id)} is not a record id: give a seq number, a run id (run_…) or a sandbox id (sbx_…)`);
    const records = await parts.audit.query({ ...by, tenant, limit: 1000 });
    if (records.length === 0) throw new AirlockError('AUDIT_NOT_FOUND', `no audit record ${id} in your tenant`);
    return c.json(page(records, 1000), 200);
  });
}
