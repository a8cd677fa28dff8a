/**
 * POST /v1/check: the five-question threat report for a policy, answered from the policy and live
 * probes. The same check serves stored policies (routes/policies.ts), one at a time per tenant.
 */
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AirlockError } from '../../core/errors.ts';
import { runCheck } from '../../check/check.ts';
import { reportJson, type Question } from '../../check/questions.ts';
import type { Tier } from '../../core/result.ts';
import type { PolicyDocument } from '../../policy/schema.ts';
import { DENY_ALL } from '../../policy/schema.ts';
import type { ServerEnv } from '../guard.ts';
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

export type CheckReportJson = ReturnType<typeof reportJson>;

/** Runs checks for the key's tenant, one at a time per tenant: a check runs bombs (loop, memory, fork, disk, output) for seconds. */
export class CheckRunner {
  readonly #parts: RouteParts;
  readonly #checking = new Set<string>();

  constructor(parts: RouteParts) {
    this.#parts = parts;
  }

  async report(c: Context<ServerEnv>, policy: PolicyDocument, ask: { readonly tier?: Tier | undefined; readonly questions?: readonly Question[] | undefined }): Promise<CheckReportJson> {
    const tenant = c.var.caller.tenant;
    if (this.#checking.has(tenant)) {
      c.header('Retry-After', '5');
      throw new AirlockError('RATE_LIMITED', 'a check for this tenant is already running: wait for its report, then ask again');
    }
    this.#checking.add(tenant);
    try {
      const report = await runCheck(this.#parts.airlock, {
        tier: tierFor(policy, ask.tier),
        policy,
        tenant,
        home: this.#parts.home,
        ...(ask.questions === undefined ? {} : { questions: [...ask.questions] }),
      });
      return reportJson(report);
    } finally {
      this.#checking.delete(tenant);
    }
  }
}

/** Serves POST /v1/check; returns the runner, for the other routes that check. */
export function checkRoutes(app: App, parts: RouteParts): CheckRunner {
  const runner = new CheckRunner(parts);
  app.openapi(check, async (c) => {
    const body = c.req.valid('json');
    return c.json(await runner.report(c, body.policy ?? DENY_ALL, { tier: body.tier, questions: body.questions }), 200);
  });
  return runner;
}
