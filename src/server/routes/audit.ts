/** The tenant's own audit records: a filtered page, or one record / run / sandbox by id. Never another tenant's. */
import { createRoute } from '@hono/zod-openapi';
import type { AuditRecord } from '../../audit/chain.ts';
import { isoTime, type AuditQuery } from '../../audit/store.ts';
import { AirlockError } from '../../core/errors.ts';
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

function page(records: AuditRecord[], limit: number): { records: AuditRecord[]; next: number | null } {
  const last = records[records.length - 1];
  return { records, next: records.length === limit && last !== undefined ? last.seq : null };
}

export function auditRoutes(app: App, parts: RouteParts): void {
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
