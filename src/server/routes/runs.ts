/**
 * Runs: POST /v1/runs runs code once; GET /v1/runs, /v1/runs/{id} and /v1/runs/events read the
 * tenant's runs back from the audit log (src/server/run-history.ts, run-view.ts, run-stream.ts).
 * Every read names the key's tenant; a query can only narrow within it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isoTime } from '../../audit/store.ts';
import { AirlockError } from '../../core/errors.ts';
import type { RunRequest } from '../../policy/request.ts';
import { RUN_EVENTS_DESCRIPTION, runDetailSchema, runEventsQuery, runIdParams, runListQuery, runPageSchema } from '../console-schemas.ts';
import { statusOf } from '../errors.ts';
import { listRuns, readRun } from '../run-history.ts';
import { runEventStream } from '../run-stream.ts';
import { errorSchema, runBodySchema, runResultSchema } from '../schemas.ts';
import { ERRORS, json, SECURITY, type App, type RouteParts } from './common.ts';

const tags = ['runs'];

const run = createRoute({
  method: 'post',
  path: '/v1/runs',
  tags,
  summary: 'Run code once in a fresh sandbox',
  description: "The body is a RunRequest without `tenant`: the run is the API key's tenant's. The answer is the RunResult, with status 200 when it ended ok, else its error code's status.",
  security: SECURITY,
  request: { body: { required: true, content: json(runBodySchema) } },
  responses: {
    200: { description: 'The run ended ok', content: json(runResultSchema) },
    default: { description: "The run did not end ok: the RunResult, with its error code's status; or, for a request refused before it ran, an Error", content: json(z.union([runResultSchema, errorSchema])) },
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/runs',
  tags,
  summary: "The tenant's runs, newest first, a page at a time, from the audit log",
  security: SECURITY,
  request: { query: runListQuery },
  responses: { 200: { description: 'A page of runs', content: json(runPageSchema) }, ...ERRORS },
});

const events = createRoute({
  method: 'get',
  path: '/v1/runs/events',
  tags,
  summary: "The tenant's runs as they start and end (server-sent events)",
  security: SECURITY,
  request: {
    query: runEventsQuery,
    headers: z.object({ 'last-event-id': z.string().regex(/^\d{1,15}$/).optional() }),
  },
  responses: { 200: { description: 'The stream', content: { 'text/event-stream': { schema: z.string().openapi({ description: RUN_EVENTS_DESCRIPTION }) } } }, ...ERRORS },
});

const show = createRoute({
  method: 'get',
  path: '/v1/runs/{id}',
  tags,
  summary: 'One run: its code, policy, warrant, every decision in order with its recorded reason and label, usage against limits, output',
  description: "404 NOT_FOUND for a run that is not the key's tenant's, exactly as for one that does not exist.",
  security: SECURITY,
  request: { params: runIdParams },
  responses: { 200: { description: 'The run', content: json(runDetailSchema) }, ...ERRORS },
});

/** Runs a page lists by default, and at most. */
const PAGE = { default: 50, max: 200 } as const;

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

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const limit = q.limit === undefined ? PAGE.default : Number(q.limit);
    if (limit < 1 || limit > PAGE.max) throw new AirlockError('INVALID_REQUEST', `limit ${limit} is out of range: ask for 1–${PAGE.max} runs a page`);
    const page = await listRuns(
      parts.audit,
      c.var.caller.tenant,
      {
        ...(q.status !== undefined && { status: q.status }),
        ...(q.tier !== undefined && { tier: q.tier }),
        ...(q.tool !== undefined && { tool: q.tool }),
        ...(q.code !== undefined && { code: q.code }),
        ...(q.since !== undefined && { since: isoTime(q.since, 'since') }),
        ...(q.until !== undefined && { until: isoTime(q.until, 'until') }),
      },
      { limit, ...(q.before !== undefined && { before: Number(q.before) }) },
    );
    return c.json(page, 200);
  });

  // Before /v1/runs/{id}: "events" is not a run id.
  app.openapi(events, (c) => {
    const header = c.req.valid('header')['last-event-id'];
    const query = c.req.valid('query').afterSeq;
    const after = header ?? query;
    const release = parts.streams.take(c.var.caller.keyId);
    return runEventStream(c, { feed: parts.feed, tenant: c.var.caller.tenant, afterSeq: after === undefined ? undefined : Number(after), release });
  });

  app.openapi(show, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await readRun(parts.audit, c.var.caller.tenant, id), 200);
  });
}
