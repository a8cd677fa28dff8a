/**
 * Container sandboxes over HTTP: create, list, look at, destroy, and commands whose output streams
 * as server-sent events while they run. A command goes on when its stream's client goes away; the
 * client attaches again with GET …/commands/{cmd}/events (Last-Event-ID reads on after what it saw).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { newId } from '../../core/ids.ts';
import { LIMIT_DEFAULTS, type PolicyDocument } from '../../policy/schema.ts';
import { CommandRecord } from '../commands.ts';
import type { ServerEnv } from '../guard.ts';
import { commandParams, commandSchema, execBodySchema, idParams, sandboxBodySchema, sandboxSchema, SSE_DESCRIPTION } from '../schemas.ts';
import type { LiveSandbox } from '../sandboxes.ts';
import { ERRORS, json, SECURITY, type App, type RouteParts } from './common.ts';

const tags = ['sandboxes'];
const sse = { 'text/event-stream': { schema: z.string().openapi({ description: SSE_DESCRIPTION }) } };

const create = createRoute({
  method: 'post',
  path: '/v1/sandboxes',
  tags,
  summary: 'Create a container sandbox (a workbench: files, processes) under a policy',
  security: SECURITY,
  request: { body: { required: false, content: json(sandboxBodySchema) } },
  responses: { 201: { description: 'Created', content: json(sandboxSchema) }, ...ERRORS },
});

const list = createRoute({
  method: 'get',
  path: '/v1/sandboxes',
  tags,
  summary: "The tenant's live sandboxes made through this server",
  security: SECURITY,
  responses: { 200: { description: 'Sandboxes', content: json(z.object({ sandboxes: z.array(sandboxSchema) })) }, ...ERRORS },
});

const show = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}',
  tags,
  summary: 'One sandbox',
  security: SECURITY,
  request: { params: idParams },
  responses: { 200: { description: 'The sandbox', content: json(sandboxSchema) }, ...ERRORS },
});

const destroy = createRoute({
  method: 'delete',
  path: '/v1/sandboxes/{id}',
  tags,
  summary: 'Destroy a sandbox: whatever runs in it is stopped (and recorded so), its workspace removed',
  security: SECURITY,
  request: { params: idParams },
  responses: { 204: { description: 'Destroyed' }, ...ERRORS },
});

const exec = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/commands',
  tags,
  summary: 'Run a command in the sandbox; its output streams as server-sent events',
  security: SECURITY,
  request: { params: idParams, body: { required: true, content: json(execBodySchema) } },
  responses: { 200: { description: 'The command, as it runs', content: sse }, ...ERRORS },
});

const command = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/commands/{cmd}',
  tags,
  summary: 'A command: running or done, and its result once done',
  security: SECURITY,
  request: { params: commandParams },
  responses: { 200: { description: 'The command', content: json(commandSchema) }, ...ERRORS },
});

const events = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/commands/{cmd}/events',
  tags,
  summary: 'Attach to a command: its events from the start, or after Last-Event-ID, then live until it ends',
  security: SECURITY,
  request: {
    params: commandParams,
    headers: z.object({ 'last-event-id': z.string().regex(/^\d{1,9}$/).optional() }),
  },
  responses: { 200: { description: 'The command, from where the client asked', content: sse }, ...ERRORS },
});

function describe(id: string, live: LiveSandbox): z.infer<typeof sandboxSchema> {
  return { id, tier: 'container', createdAt: live.createdAt, limits: { ...live.limits } };
}

/** The limits a sandbox runs under: those its policy gives, the defaults for the rest. */
function limitsOf(policy: PolicyDocument | undefined): Record<string, number> {
  const given = Object.entries(policy?.limits ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
  return { ...LIMIT_DEFAULTS, ...Object.fromEntries(given) };
}

/** Streams `record`'s events after `afterSeq`; the command goes on if the client leaves. */
function stream(c: Context<ServerEnv>, record: CommandRecord, sandbox: string, afterSeq: number): Response {
  return streamSSE(c, async (out) => {
    const left = new AbortController();
    out.onAbort(() => left.abort());
    try {
      if (afterSeq === 0) await out.writeSSE({ event: 'command', id: '0', data: JSON.stringify({ id: record.id, sandbox }) });
      for await (const e of record.follow(afterSeq, left.signal)) {
        await out.writeSSE({ event: e.event, id: String(e.seq), data: e.data });
      }
    } catch (error) {
      // A write to a client that has gone is no fault: the command goes on, and can be attached to again.
      if (!left.signal.aborted && !out.aborted) throw error;
    }
  });
}

function commandJson(record: CommandRecord, sandbox: string): z.infer<typeof commandSchema> {
  return { id: record.id, sandbox, startedAt: record.startedAt, done: record.done, result: record.result };
}

export function sandboxRoutes(app: App, parts: RouteParts): void {
  const { airlock, sandboxes } = parts;

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const box = await airlock.sandbox({ tier: 'container', tenant: c.var.caller.tenant, ...(body.policy === undefined ? {} : { policy: body.policy }), ...(body.warrant === undefined ? {} : { warrant: body.warrant }) });
    // Durable before the answer, so the tenant's audit shows the sandbox it was just given.
    await airlock.audit.flush();
    return c.json(describe(box.id, sandboxes.add(box, limitsOf(body.policy))), 201);
  });

  app.openapi(list, (c) => c.json({ sandboxes: sandboxes.list(c.var.caller.tenant).map((live) => describe(live.id, live)) }, 200));

  app.openapi(show, (c) => {
    const { id } = c.req.valid('param');
    return c.json(describe(id, sandboxes.get(c.var.caller.tenant, id)), 200);
  });

  app.openapi(destroy, async (c) => {
    const { id } = c.req.valid('param');
    await sandboxes.remove(c.var.caller.tenant, id).box.destroy();
    return c.body(null, 204);
  });

  app.openapi(exec, (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tenant = c.var.caller.tenant;
    const live = sandboxes.get(tenant, id);
    const record = new CommandRecord(newId('cmd'));
    sandboxes.keep(live, record);
    live.box
      .exec(body.argv, {
        ...(body.stdin === undefined ? {} : { stdin: body.stdin }),
        ...(body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs }),
        onStdout: (text) => record.push('stdout', text),
        onStderr: (text) => record.push('stderr', text),
      })
      .then(
        (result) => record.end(result),
        (error: unknown) => {
          sandboxes.forgetIfClosed(tenant, id, error);
          record.fail(error);
        },
      );
    return stream(c, record, id, 0);
  });

  app.openapi(command, (c) => {
    const { id, cmd } = c.req.valid('param');
    return c.json(commandJson(sandboxes.command(c.var.caller.tenant, id, cmd), id), 200);
  });

  app.openapi(events, (c) => {
    const { id, cmd } = c.req.valid('param');
    const after = c.req.valid('header')['last-event-id'];
    return stream(c, sandboxes.command(c.var.caller.tenant, id, cmd), id, after === undefined ? 0 : Number(after));
  });
}
