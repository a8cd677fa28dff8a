/** POST /v1/check: the five-question threat report for a policy, answered from the policy and live probes. */
import { createRoute } from '@hono/zod-openapi';
import { AirlockError } from '../../core/errors.ts';
import { runCheck } from '../../check/check.ts';
import { reportJson } from '../../check/questions.ts';
import type { Tier } from '../../core/result.ts';
import type { PolicyDocument } from '../../policy/schema.ts';
import { DENY_ALL } from '../../policy/schema.ts';
import { checkBodySchema, checkReportSchema } from '../schemas.ts';
import { ERRORS, json, SECURITY, type App, type RouteParts } from './common.ts';

const check = createRoute({
  method: 'post',
  path: '/v1/check',
  tags: ['check'],
  summary: 'Can code under this policy read secrets, reach the network, read files, touch another tenant, exhaust resources?',
  description: 'Each answer is derived from the policy and verified by probes in real sandboxes of the key\'s tenant; `consistent` is false when the two disagree (the worse answer is shown).',
  security: SECURITY,
  request: { body: { required: false, content: json(checkBodySchema) } },
  responses: { 200: { description: 'The report', content: json(checkReportSchema) }, ...ERRORS },
});

/** Files or env need the container tier; anything else is asked of the isolate tier (as `airlock check`). */
function tierFor(policy: PolicyDocument, tier: Tier | undefined): Tier {
  if (tier !== undefined) return tier;
  return (policy.files ?? []).length > 0 || Object.keys(policy.env ?? {}).length > 0 ? 'container' : 'isolate';
}

export function checkRoutes(app: App, parts: RouteParts): void {
  // A check runs bombs (loop, memory, fork, disk, output) for seconds: one at a time per tenant.
  const checking = new Set<string>();
  app.openapi(check, async (c) => {
    const body = c.req.valid('json');
    const tenant = c.var.caller.tenant;
    const policy = body.policy ?? DENY_ALL;
    if (checking.has(tenant)) {
      c.header('Retry-After', '5');
      throw new AirlockError('RATE_LIMITED', 'a check for this tenant is already running: wait for its report, then ask again');
    }
    checking.add(tenant);
    try {
      const report = await runCheck(parts.airlock, {
        tier: tierFor(policy, body.tier),
        policy,
        tenant,
        home: parts.home,
        ...(body.questions === undefined ? {} : { questions: body.questions }),
      });
      return c.json(reportJson(report), 200);
    } finally {
      checking.delete(tenant);
    }
  });
}
