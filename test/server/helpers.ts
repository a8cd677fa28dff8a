/** Test helpers for the HTTP API: a server in-process on port 0 with a private home, keys, fetch, SSE. */
import { request as httpRequest } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import type { AuditRecord } from '../../src/audit/chain.ts';
import { tenantId } from '../../src/audit/store.ts';
import { KeyStore } from '../../src/server/keys.ts';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server/serve.ts';

export interface TestServer extends AsyncDisposable {
  readonly server: RunningServer;
  readonly home: string;
  readonly logs: string[];
  readonly key: (tenant: string) => string;
  readonly revoke: (tenant: string, key: string) => void;
  /** Every audit record in the log, read from the database file itself. */
  readonly records: () => Promise<AuditRecord[]>;
}

export async function testServer(options: Omit<ServeOptions, 'home' | 'port'> = {}): Promise<TestServer> {
  const home = mkdtempSync(join(tmpdir(), 'airlock-serve-'));
  const logs: string[] = [];
  const server = await startServer({ home, port: 0, log: (line) => logs.push(line), ...options });
  const keys = KeyStore.open(home);
  return {
    server,
    home,
    logs,
    key: (tenant) => keys.create(tenantId(tenant)).key,
    revoke: (tenant, key) => keys.revoke(tenantId(tenant), key.split('_')[1] ?? ''),
    records: async () => {
      const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
      try {
        return await store.query({});
      } finally {
        await store.close();
      }
    },
    [Symbol.asyncDispose]: async () => {
      keys.close();
      await server.close();
    },
  };
}

/** A JSON call with a key; the body is JSON unless it is a string or a stream. */
export async function call(base: string, key: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; headers: Headers }> {
  const init: RequestInit & { duplex?: 'half' } = {
    method,
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
  };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof ReadableStream ? body : JSON.stringify(body);
    if (body instanceof ReadableStream) init.duplex = 'half';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown), headers: res.headers };
}

/** A request with headers fetch won't let a caller set (Host), over node:http. */
export function rawRequest(base: string, options: { method: string; path: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; json: unknown }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text === '' ? null : (JSON.parse(text) as unknown) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface SseEvent {
  readonly event: string;
  readonly id: string;
  readonly data: string;
}

/** Reads server-sent events from a response, handing each to `each`; stops when it returns 'stop' or the stream ends. */
export async function readEvents(res: Response, each: (e: SseEvent) => 'stop' | 'more' = () => 'more'): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return seen;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      const field = (name: string): string[] => lines.filter((l) => l.startsWith(`${name}: `) || l === `${name}:`).map((l) => l.slice(name.length + 2));
      const e = { event: field('event')[0] ?? 'message', id: field('id')[0] ?? '', data: field('data').join('\n') };
      seen.push(e);
      if (each(e) === 'stop') {
        await reader.cancel();
        return seen;
      }
    }
  }
}

/** Starts a command in a sandbox and returns its response (an SSE stream). */
export function startCommand(base: string, key: string, sandbox: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${base}/v1/sandboxes/${sandbox}/commands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}
