/** Files in a container sandbox's workspace: write, read, list. Paths are checked by the sandbox's file door. */
import { createRoute } from '@hono/zod-openapi';
import { AirlockError } from '../../core/errors.ts';
import { fileContentSchema, fileListSchema, idParams, listFilesQuery, readFileQuery, writeFileBodySchema } from '../schemas.ts';
import { ERRORS, json, SECURITY, type App, type RouteParts } from './common.ts';

const tags = ['files'];

const write = createRoute({
  method: 'put',
  path: '/v1/sandboxes/{id}/files',
  tags,
  summary: 'Write a file in the workspace (made or replaced)',
  security: SECURITY,
  request: { params: idParams, body: { required: true, content: json(writeFileBodySchema) } },
  responses: { 204: { description: 'Written' }, ...ERRORS },
});

const list = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/files',
  tags,
  summary: 'List the workspace, or a directory in it',
  security: SECURITY,
  request: { params: idParams, query: listFilesQuery },
  responses: { 200: { description: 'Entries', content: json(fileListSchema) }, ...ERRORS },
});

const read = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/files/content',
  tags,
  summary: 'Read a file: as UTF-8 text (default; refused when it is not), or base64',
  security: SECURITY,
  request: { params: idParams, query: readFileQuery },
  responses: { 200: { description: 'The content', content: json(fileContentSchema) }, ...ERRORS },
});

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decode(content: string, encoding: 'utf8' | 'base64'): string | Uint8Array {
  if (encoding === 'utf8') return content;
  if (!BASE64.test(content)) throw new AirlockError('INVALID_REQUEST', 'content is not base64 (RFC 4648, with padding): encode it so, or send text with encoding utf8');
  return Buffer.from(content, 'base64');
}

function encode(path: string, data: Buffer, encoding: 'utf8' | 'base64'): string {
  if (encoding === 'base64') return data.toString('base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new AirlockError('INVALID_REQUEST', `${JSON.stringify(path)} is not UTF-8 text: read it with encoding=base64`);
  }
}

export function fileRoutes(app: App, parts: RouteParts): void {
  const { sandboxes } = parts;

  app.openapi(write, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    await sandboxes.use(c.var.caller.tenant, id, (live) => live.box.writeFile(body.path, decode(body.content, body.encoding ?? 'utf8')));
    return c.body(null, 204);
  });

  app.openapi(list, async (c) => {
    const { id } = c.req.valid('param');
    const { path } = c.req.valid('query');
    const entries = await sandboxes.use(c.var.caller.tenant, id, (live) => live.box.listFiles(path));
    return c.json({ entries: entries.map((e) => ({ path: e.path, type: e.type, size: e.size })) }, 200);
  });

  app.openapi(read, async (c) => {
    const { id } = c.req.valid('param');
    const { path, encoding = 'utf8' } = c.req.valid('query');
    const data = await sandboxes.use(c.var.caller.tenant, id, (live) => live.box.readFile(path));
    return c.json({ path, encoding, content: encode(path, data, encoding) }, 200);
  });
}
