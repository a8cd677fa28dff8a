/**
 * Connections to upstreams, always to the address the gateway checked: http(s) requests pass that
 * address as the socket's host (so no lookup happens) and the checked name only as Host header and
 * TLS server name; CONNECT tunnels dial the address directly. Keep-alive pools are per gateway,
 * per tenant, sandbox, run, route and credential, keyed by address, so a pooled socket can't be
 * reused for a name that now resolves elsewhere, nor carry one route's request after another's. The gateway frames every request
 * itself: a guest's Content-Length or Transfer-Encoding is never forwarded (a length with no body
 * would leave the upstream waiting for bytes that the next request on the socket then supplies).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect, isIP, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { AirlockError } from '../core/errors.ts';
import type { Scheme } from '../policy/network.ts';

/** Where a checked request goes: `address` was resolved and checked; `host` is the name it stands for. */
export interface Upstream {
  readonly scheme: Scheme;
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

export interface TenantPools {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  /** Agents that keep no connection: each request gets a fresh one, closed after its answer. */
  readonly once: { readonly http: HttpAgent; readonly https: HttpsAgent };
}

/** Who an exchange is for and which route and credential it uses: one keep-alive pool each. */
export interface PoolKey {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run?: string | undefined;
  readonly route: string;
  /** The secret's name on a credentialed route, else null. */
  readonly credential: string | null;
}

export interface Pools {
  /** The keep-alive pools of one tenant's sandbox (or run), route and credential, made on first use. */
  of(key: PoolKey): TenantPools;
  /** The sandbox (or run) is over: its pooled connections are closed. */
  release(key: Omit<PoolKey, 'route' | 'credential'>): void;
  destroy(): void;
}

const owner = (k: Omit<PoolKey, 'route' | 'credential'>): string => JSON.stringify([k.tenant, k.sandbox, k.run ?? null]);

/**
 * Keep-alive pools for one gateway; `ca` lets a host (or a test) trust its own upstream's CA.
 * An upstream connection is never shared between exchanges of different tenants, sandboxes, runs,
 * routes or credentials: an upstream (or a shared front such as a CDN edge) that desynchronises a
 * connection can then only mix answers of one route's own requests, never hand a credentialed
 * answer, unredacted, to a plain route's request.
 */
export function createPools(options: { ca?: string | undefined }): Pools {
  const common = { keepAlive: true, maxSockets: 256, maxFreeSockets: 16, scheduling: 'lifo' as const };
  const byOwner = new Map<string, Map<string, TenantPools>>();
  const tls = options.ca === undefined ? {} : { ca: options.ca };
  // keepAlive false with no socket cap: Node closes each connection once its answer is read.
  const once = { http: new HttpAgent({ keepAlive: false }), https: new HttpsAgent({ keepAlive: false, ...tls }) };
  const destroy = (pools: Map<string, TenantPools>): void => {
    for (const p of pools.values()) {
      p.http.destroy();
      p.https.destroy();
    }
  };
  return {
    of(key) {
      const who = owner(key);
      let mine = byOwner.get(who);
      if (mine === undefined) byOwner.set(who, (mine = new Map<string, TenantPools>()));
      const which = JSON.stringify([key.route, key.credential]);
      let pools = mine.get(which);
      if (pools === undefined) {
        pools = { http: new HttpAgent(common), https: new HttpsAgent({ ...common, ...tls }), once };
        mine.set(which, pools);
      }
      return pools;
    },
    release(key) {
      const mine = byOwner.get(owner(key));
      if (mine === undefined) return;
      byOwner.delete(owner(key));
      destroy(mine);
    },
    destroy() {
      for (const mine of byOwner.values()) destroy(mine);
      byOwner.clear();
      once.http.destroy();
      once.https.destroy();
    },
  };
}

// Headers that describe one hop, not the request; the gateway sets its own.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect']);

/** The guest's headers minus hop-by-hop ones (and any it names in Connection) and minus `drop`. */
export function forwardHeaders(headers: readonly (readonly [string, string])[], drop: ReadonlySet<string>): [string, string][] {
  const named = new Set(
    headers
      .filter(([k]) => k.toLowerCase() === 'connection')
      .flatMap(([, v]) => v.split(',').map((s) => s.trim().toLowerCase())),
  );
  return headers.filter(([k]) => {
    const key = k.toLowerCase();
    return !HOP.has(key) && !named.has(key) && !drop.has(key);
  }) as [string, string][];
}

function hostHeader(up: Upstream): string {
  const name = isIP(up.host) === 6 ? `[${up.host}]` : up.host;
  const standard = (up.scheme === 'https' && up.port === 443) || (up.scheme === 'http' && up.port === 80);
  return standard ? name : `${name}:${up.port}`;
}

/**
 * Sends one request to a checked upstream and resolves with its response head; the body streams.
 *
 * @example
 *   const res = await sendPinned(pools, { scheme: 'http', host: 'api.local', port: 80, address: '10.0.0.5' }, 'GET', '/x', [], undefined, 5000);
 */
export function sendPinned(
  pools: TenantPools,
  up: Upstream,
  method: string,
  pathAndQuery: string,
  headers: readonly (readonly [string, string])[],
  body: Readable | Uint8Array | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  const out: OutgoingHttpHeaders = { host: hostHeader(up) };
  for (const [k, v] of headers) {
    const prior = out[k.toLowerCase()];
    out[k.toLowerCase()] = prior === undefined ? v : [...(Array.isArray(prior) ? prior : [String(prior)]), v];
  }
  if (body instanceof Uint8Array) out['content-length'] = String(body.byteLength);
  // A HEAD's answer has no body by definition, so a client can't tell where it ends if the
  // upstream sends one anyway (the classic desync): its connection is not kept for another request.
  const agents = method === 'HEAD' ? pools.once : pools;
  const options = {
    host: up.address,
    port: up.port,
    method,
    path: pathAndQuery,
    headers: out,
    setHost: false,
    timeout: timeoutMs,
    ...(signal === undefined ? {} : { signal }),
    ...(up.scheme === 'https' ? { agent: agents.https, servername: isIP(up.host) === 0 ? up.host : '' } : { agent: agents.http }),
  };
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = up.scheme === 'https' ? httpsRequest(options) : httpRequest(options);
    req.on('response', resolve);
    req.on('timeout', () => req.destroy(new AirlockError('EGRESS_UPSTREAM_FAILED', `${up.host}:${up.port} did not answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof AirlockError ? e : new AirlockError('EGRESS_UPSTREAM_FAILED', `${up.host}:${up.port} (${up.address}): ${e.message}`)));
    if (body === undefined) req.end();
    else if (body instanceof Uint8Array) req.end(body);
    else {
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    }
  });
}

/** Dials a checked address for a CONNECT tunnel; resolves once the TCP connection is up. */
export function dialPinned(up: Upstream, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: up.address, port: up.port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new AirlockError('EGRESS_UPSTREAM_FAILED', `${up.host}:${up.port} (${up.address}): ${e.message}`));
    });
  });
}
