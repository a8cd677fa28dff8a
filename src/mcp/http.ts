/**
 * `airlock mcp --http`: streamable HTTP on 127.0.0.1 with one MCP session per client (the
 * `Mcp-Session-Id` transport), so a session's container sandboxes live as long as it does and are
 * destroyed when it is deleted or the server closes. Every request passes the Host and Origin check
 * first (src/mcp/host-guard.ts); a refused one never reaches the SDK.
 *
 * @example
 *   const served = await serveMcpHttp(build, { port: 0, allowHosts: [], allowOrigins: [] });
 *   console.log(served.url); // http://127.0.0.1:PORT/mcp
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, type Transport } from '@modelcontextprotocol/server';
import { AirlockError, codeInfo } from '../core/errors.ts';
import { hostRefusal } from './host-guard.ts';

export const MCP_PATH = '/mcp';
/** The largest JSON-RPC body read (code and files travel in it). */
const MAX_BODY = 32 * 1024 * 1024;
const MAX_SESSIONS = 64;
/** A session no request has used for this long is closed (its sandboxes destroyed): a client that crashed never sends DELETE. */
const SESSION_IDLE_MS = 15 * 60_000;

export interface McpHttpOptions {
  readonly port: number;
  /** Host header values served besides 127.0.0.1:PORT and localhost:PORT. */
  readonly allowHosts: readonly string[];
  readonly allowOrigins: readonly string[];
}

/** What serves one session: an McpServer or a low-level Server. */
export interface SessionServer {
  connect(transport: Transport): Promise<void>;
}

export interface ServedMcp {
  readonly url: string;
  close(): Promise<void>;
}

function refuse(res: ServerResponse, error: AirlockError): void {
  const info = codeInfo(error.code);
  res.writeHead(info.http, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: info.rpc, message: `${error.code}: ${error.message}`, data: { code: error.code, hint: info.hint } } }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new AirlockError('REQUEST_TOO_LARGE', `the request body is over ${MAX_BODY >> 20} MiB: send less code or smaller files`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AirlockError('INVALID_REQUEST', 'the request body is not JSON: send a JSON-RPC message');
  }
}

/** Serves `build` (one server per session) until close(), which ends every session. */
export async function serveMcpHttp(build: () => SessionServer, options: McpHttpOptions): Promise<ServedMcp> {
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  const lastUsed = new Map<string, number>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [sid, at] of lastUsed) {
      if (now - at > SESSION_IDLE_MS) void sessions.get(sid)?.close();
    }
  }, 30_000);
  sweep.unref();
  let rules = { hosts: [...options.allowHosts], origins: [...options.allowOrigins] };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refusal = hostRefusal(req.headers, rules);
    if (refusal !== null) return refuse(res, refusal);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== MCP_PATH) return refuse(res, new AirlockError('NOT_FOUND', `nothing at ${url.pathname}: MCP is served at ${MCP_PATH}`));
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known !== undefined && typeof id === 'string') {
      lastUsed.set(id, Date.now());
      return known.handleRequest(req, res, req.method === 'POST' ? await readJson(req) : undefined);
    }
    if (typeof id === 'string') return refuse(res, new AirlockError('NOT_FOUND', 'no such MCP session (it ended, or the server restarted): connect again'));
    if (req.method !== 'POST') return refuse(res, new AirlockError('INVALID_REQUEST', 'start a session with an initialize POST first'));
    const body = await readJson(req);
    if (!isInitializeRequest(body)) return refuse(res, new AirlockError('INVALID_REQUEST', 'no Mcp-Session-Id: start a session with an initialize request'));
    if (sessions.size >= MAX_SESSIONS) return refuse(res, new AirlockError('MCP_SESSIONS', `this server already holds ${MAX_SESSIONS} MCP sessions: end one (DELETE ${MCP_PATH}) first`));
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
        lastUsed.set(sid, Date.now());
      },
    });
    const server = build();
    // The server's own onclose (set by build) destroys the session's sandboxes; the map forgets it.
    transport.onclose = () => {
      if (transport.sessionId === undefined) return;
      sessions.delete(transport.sessionId);
      lastUsed.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.end();
      refuse(res, error instanceof AirlockError ? error : new AirlockError('INTERNAL', 'the MCP request failed; see the server log'));
      if (!(error instanceof AirlockError)) process.stderr.write(`airlock mcp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    });
  });
  // Loopback only: a remote caller would need a proxy that sets a served Host.
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  rules = { hosts: [`127.0.0.1:${port}`, `localhost:${port}`, ...options.allowHosts], origins: [...options.allowOrigins] };
  return {
    url: `http://127.0.0.1:${port}${MCP_PATH}`,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((t) => t.close().catch(() => undefined)));
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
