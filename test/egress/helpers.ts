// Test helpers: a loopback upstream that logs every request it sees, and clients for the proxy.
import { gzipSync } from 'node:zlib';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { EgressGateway, type EgressGatewayOptions } from '../../src/egress/gateway.ts';
import type { SecretSource } from '../../src/egress/secrets.ts';

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Upstream {
  readonly port: number;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/** An upstream on 127.0.0.1 that echoes the request (method, url, headers, body) as JSON. */
export async function startUpstream(options: { secret?: string } = {}): Promise<Upstream> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(entry);
      if (options.secret !== undefined && req.headers.authorization !== `Bearer ${options.secret}`) {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('bad credentials');
        return;
      }
      const body = JSON.stringify(entry);
      const url = new URL(entry.url, 'http://upstream');
      // Echo endpoints in the forms real ones have: compressed when asked (or always), base64'd.
      const gzip = url.pathname.endsWith('/force-gzip') || (url.pathname.endsWith('/gzip') && /gzip/.test(String(req.headers['accept-encoding'])));
      if (gzip) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(body));
        return;
      }
      if (url.pathname.endsWith('/range') || url.pathname.endsWith('/force-206')) {
        // Byte ranges of the echo, when asked (or always): slices that each hold part of a secret.
        const bytes = Buffer.from(body);
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? (url.pathname.endsWith('/force-206') ? 'bytes=0-20' : ''));
        if (m === null) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
          return;
        }
        res.writeHead(206, { 'content-type': 'application/json', 'content-range': `bytes ${m[1]}-${m[2]}/${bytes.length}` });
        res.end(bytes.subarray(Number(m[1]), Number(m[2]) + 1));
        return;
      }
      if (url.pathname.endsWith('/header-name')) {
        // The credential echoed into a header's name, as written and lower-cased.
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        res.writeHead(200, [['content-type', 'text/plain'], [`x-${token}`, '1'], [`x-low-${token.toLowerCase()}`, '2'], ['x-plain', 'kept']]);
        res.end('ok');
        return;
      }
      if (url.pathname.endsWith('/base64')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(Buffer.concat([Buffer.alloc(Number(url.searchParams.get('pad') ?? 0), 'x'), Buffer.from(body)]).toString(url.searchParams.get('as') === 'url' ? 'base64url' : 'base64'));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-echo-auth': req.headers.authorization ?? '' });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export const noSecrets: SecretSource = { get: () => undefined };

export function newGateway(options: Partial<EgressGatewayOptions> = {}): { gateway: EgressGateway; audit: MemoryAuditSink } {
  const audit = new MemoryAuditSink();
  return { gateway: new EgressGateway({ audit, secrets: noSecrets, ...options }), audit };
}

export function ctxFor(policy: unknown, sandbox = 'sbx_test'): { tenant: string; sandbox: string; policy: ReturnType<typeof compilePolicy> } {
  return { tenant: 'acme', sandbox, policy: compilePolicy(policy) };
}

export interface ProxyReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request through the proxy's unix socket, absolute-form unless `path` says otherwise. */
export function viaProxy(socketPath: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<ProxyReply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers, agent: false, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes to the proxy socket and returns everything it answers until it closes. */
export function rawProxy(socketPath: string, data: string, options: { closeAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    s.write(data);
    if (options.closeAfterMs !== undefined) setTimeout(() => s.end(), options.closeAfterMs);
  });
}

/** The network decisions in an audit sink, as plain details. */
export function decisions(audit: MemoryAuditSink): Record<string, unknown>[] {
  return audit.events.flatMap((e) => (e.kind === 'decision' && e.door === 'network' ? [{ ...e.detail }] : []));
}
