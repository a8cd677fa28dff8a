/** POST /v1/runs: a one-shot run, under the caller's tenant. */
import { createRoute, z } from '@hono/zod-openapi';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RunRequest } from '../../policy/request.ts';
import { statusOf } from '../errors.ts';
import { errorSchema, runBodySchema, runResultSchema } from '../schemas.ts';
import { json, SECURITY, type App, type RouteParts } from './common.ts';

const run = createRoute({
  method: 'post',
  path: '/v1/runs',
  tags: ['runs'],
  summary: 'Run code once in a fresh sandbox',
  description: "The body is a RunRequest without `tenant`: the run is the API key's tenant's. The answer is the RunResult, with status 200 when it ended ok, else its error code's status.",
  security: SECURITY,
  request: { body: { required: true, content: json(runBodySchema) } },
  responses: {
    200: { description: 'The run ended ok', content: json(runResultSchema) },
    default: { description: "The run did not end ok: the RunResult, with its error code's status; or, for a request refused before it ran, an Error", content: json(z.union([runResultSchema, errorSchema])) },
  },
});

export function runRoutes(app: App, parts: RouteParts): void {
  app.openapi(run, async (c) => {
    const req = c.req.valid('json');
    // `input` is checked as JSON by the library's own RunRequest schema.
    const result = await parts.airlock.run({ ...req, input: req.input as RunRequest['input'], tenant: c.var.caller.tenant });
    const body = { ...result, violations: [...result.violations] };
    if (result.error === null) return c.json(body, 200);
    // The RunResult carries `error: { code, message }` itself, so it is the error body too.
    return c.json(body, statusOf(result.error.code) as Exclude<ContentfulStatusCode, 200>);
  });
}
