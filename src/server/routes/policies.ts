/**
 * Stored policies, within the key's tenant: store one by name (PUT), list them, show one, and
 * check one (the five answers of POST /v1/check, each with its evidence: what the policy says and
 * what the probes observed). Another tenant's name is 404 exactly as a name never stored.
 */
import { createRoute } from '@hono/zod-openapi';
import { AirlockError } from '../../core/errors.ts';
import type { PolicyDocument } from '../../policy/schema.ts';
import { policyCheckBodySchema, policyListSchema, policyNameParams, storedPolicySchema } from '../console-schemas.ts';
import { policySummary } from '../policy-summary.ts';
import type { StoredPolicy } from '../policy-store.ts';
import { checkReportSchema, policyDocumentSchema } from '../schemas.ts';
import type { CheckRunner } from './check.ts';
import { ERRORS, json, SECURITY, type App, type RouteParts } from './common.ts';

const tags = ['policies'];

const put = createRoute({
  method: 'put',
  path: '/v1/policies/{name}',
  tags,
  summary: 'Store a policy under a name (replacing one stored so), once it compiles',
  security: SECURITY,
  request: { params: policyNameParams, body: { required: true, content: json(policyDocumentSchema) } },
  responses: { 200: { description: 'Stored', content: json(storedPolicySchema) }, ...ERRORS },
});

const list = createRoute({
  method: 'get',
  path: '/v1/policies',
  tags,
  summary: "The tenant's stored policies, by name, each with the doors it grants",
  security: SECURITY,
  responses: { 200: { description: 'The policies', content: json(policyListSchema) }, ...ERRORS },
});

const show = createRoute({
  method: 'get',
  path: '/v1/policies/{name}',
  tags,
  summary: 'One stored policy: its document, hash and the doors it grants',
  security: SECURITY,
  request: { params: policyNameParams },
  responses: { 200: { description: 'The policy', content: json(storedPolicySchema) }, ...ERRORS },
});

const check = createRoute({
  method: 'post',
  path: '/v1/policies/{name}/check',
  tags,
  summary: 'The five answers for a stored policy, derived from it and verified by live probes, with their evidence',
  description: 'The same report as POST /v1/check; one check at a time per tenant.',
  security: SECURITY,
  request: { params: policyNameParams, body: { required: false, content: json(policyCheckBodySchema) } },
  responses: { 200: { description: 'The report', content: json(checkReportSchema) }, ...ERRORS },
});

function view(p: StoredPolicy): { name: string; hash: string; updatedAt: string; summary: NonNullable<ReturnType<typeof policySummary>>; policy: Record<string, unknown> } {
  const summary = policySummary(p.hash, p.document);
  // Stored only after it compiled, so it parses; a row that does not was changed outside airlock.
  if (summary === null) throw new AirlockError('INTERNAL', `stored policy ${p.name} no longer parses: policies.db was changed outside airlock`);
  return { name: p.name, hash: p.hash, updatedAt: p.updatedAt, summary, policy: p.document as Record<string, unknown> };
}

export function policyRoutes(app: App, parts: RouteParts, checks: CheckRunner): void {
  const { policies } = parts;

  app.openapi(
    put,
    (c) => {
      const { name } = c.req.valid('param');
      return c.json(view(policies.put(c.var.caller.tenant, name, c.req.valid('json'))), 200);
    },
    // The body is the policy itself: its problems are INVALID_POLICY, each with its field.
    // (A route's own hook replaces the app's default one, so the name's problems are answered here too.)
    (result) => {
      if (result.success) return undefined;
      const list = result.error.issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : `(${result.target})`}: ${i.message}`).join('; ');
      if (result.target === 'json') throw new AirlockError('INVALID_POLICY', `the policy is invalid: ${list}`);
      throw new AirlockError('INVALID_REQUEST', `the request's ${result.target} is invalid: ${list}`);
    },
  );

  app.openapi(list, (c) => {
    const all = policies.list(c.var.caller.tenant).map((p) => {
      const { name, hash, updatedAt, summary } = view(p);
      return { name, hash, updatedAt, summary };
    });
    return c.json({ policies: all }, 200);
  });

  app.openapi(show, (c) => c.json(view(policies.get(c.var.caller.tenant, c.req.valid('param').name)), 200));

  app.openapi(check, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    // Looked up first: another tenant's name is refused before any probe runs.
    const stored = policies.get(c.var.caller.tenant, name);
    return c.json(await checks.report(c, stored.document as PolicyDocument, { tier: body.tier, questions: body.questions }), 200);
  });
}
