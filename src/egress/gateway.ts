/**
 * The egress gateway: one per host, serving both tiers with the same routes and checks.
 *   - isolate tier: `fetch(ctx, req)`, called by the host bridge for the guest's fetch binding;
 *   - container tier: `socketFor(ctx)`, a unix socket the sandbox gets bind-mounted, behind a
 *     loopback forwarder inside its empty network namespace (see forwarder.ts).
 * Every request is admitted (admit.ts), sent to the address that was checked (connect.ts), and
 * audited once, allowed or denied, with status, bytes and duration (audit.ts).
 *
 * @example
 *   const gateway = new EgressGateway({ audit, secrets: secretsFromEnv({ github: 'GITHUB_TOKEN' }) });
 *   await gateway.listen();
 *   const res = await gateway.fetch({ tenant: 't', sandbox: 's', policy }, { method: 'GET', url: 'http://github.airlock/repos/acme/x', headers: [] });
 */
import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditSink } from '../audit/event.ts';
import { AirlockError } from '../core/errors.ts';
import type { CallAuthority } from '../policy/authority.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { denialsSpentMessage } from '../policy/denials.ts';
import { HTTP_METHODS } from '../policy/network.ts';
import type { EgressContext } from './admit.ts';
import { auditEgress, auditGate, newRecord, type EgressRecord } from './audit.ts';
import { createPools, type Pools } from './connect.ts';
import { DEFAULT_LIMITS, exchange, readBody, responseHeaders, type GatewayLimits } from './exchange.ts';
import { createProxyServer, type ProxyDeps } from './proxy.ts';
import { UsageLedger } from './quota.ts';
import { systemResolver, type Resolver } from './resolve.ts';
import type { SecretSource } from './secrets.ts';
import { checkHostHeader, checkMethod, parseAbsolute } from './target.ts';

export interface EgressGatewayOptions {
  readonly audit: AuditSink;
  /** Where credentialed routes' secrets come from: the host's environment or secrets file. */
  readonly secrets: SecretSource;
  /** Name resolution on the host (default: getaddrinfo). Tests pass their own function. */
  readonly resolve?: Resolver;
  readonly limits?: Partial<GatewayLimits>;
  /** Parent directory for the private socket directory (default: the OS temp dir). */
  readonly socketParent?: string;
  /** An extra CA (PEM) to trust for https upstreams, besides the system's. */
  readonly ca?: string;
}

/** The sandbox a request comes from and the compiled policy it is checked against. */
export interface GatewayContext {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run?: string;
  readonly policy: CompiledPolicy;
  /** Called once, when the context's denial budget (limits.denials) is spent: stop what runs. */
  readonly onDenialsSpent?: () => void;
  /** The run's warrant: a request must be granted by it too (policy/authority.ts). */
  readonly authority?: Pick<CallAuthority, 'route' | 'received'> | undefined;
}

export interface GatewayRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Uint8Array;
  /** Aborted when whoever asked is gone (the run ended): the exchange is cut, and audited so. */
  readonly signal?: AbortSignal;
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: [string, string][];
  readonly body: Uint8Array;
}

export interface SandboxSocket {
  /** Host path of the unix socket; bind-mount it into the sandbox. */
  readonly path: string;
  /**
   * Aborted, with a coded AirlockError (LIMIT_DENIALS) as its reason, when the sandbox spent its
   * denial budget on this socket: its owner stops what the sandbox runs.
   */
  readonly stop: AbortSignal;
  close(): Promise<void>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD = /^[\t\x20-\x7e\x80-\xff]*$/;

export class EgressGateway {
  readonly #deps: ProxyDeps;
  readonly #pools: Pools;
  readonly #parent: string;
  readonly #servers = new Map<Server, Set<Socket>>();
  #dir: string | null = null;

  constructor(options: EgressGatewayOptions) {
    this.#pools = createPools({ ca: options.ca });
    this.#parent = options.socketParent ?? tmpdir();
    this.#deps = {
      audit: options.audit,
      secrets: options.secrets,
      resolve: options.resolve ?? systemResolver,
      ledger: new UsageLedger(),
      pools: this.#pools,
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      get resolveTimeoutMs() {
        return this.limits.resolveTimeoutMs;
      },
    };
  }

  /** Makes the private socket directory (0711: sockets reachable by exact, unguessable name only). */
  async listen(): Promise<void> {
    if (this.#dir !== null) return;
    const dir = await mkdtemp(join(this.#parent, 'airlock-egress-'));
    await chmod(dir, 0o711);
    this.#dir = dir;
  }

  /** Closes every sandbox socket and tunnel, drops pooled upstream connections, removes the sockets. */
  async close(): Promise<void> {
    await Promise.all([...this.#servers.keys()].map((s) => this.#closeServer(s)));
    this.#pools.destroy();
    if (this.#dir !== null) await rm(this.#dir, { recursive: true, force: true });
    this.#dir = null;
  }

  /** Forgets a sandbox's (or run's) quota counters and closes its upstream connections once it is destroyed. */
  release(ctx: Omit<GatewayContext, 'policy'>): void {
    this.#deps.ledger.release(ctx);
    this.#pools.release(ctx);
  }

  /**
   * Isolate tier: the guest's fetch. Resolves with the upstream's status, headers and body
   * (copied, secrets redacted); rejects with an AirlockError (EGRESS_*) when denied.
   */
  async fetch(ctx: GatewayContext, req: GatewayRequest): Promise<GatewayResponse> {
    const started = performance.now();
    const upper = req.method.toUpperCase();
    const method = (HTTP_METHODS as readonly string[]).includes(upper) ? upper : req.method;
    const record = newRecord(method, 'http', '', 0, '');
    try {
      const refused = await auditGate(this.#deps, ctx);
      if (refused !== null) {
        record.reason = refused.code;
        throw refused;
      }
      return await this.#fetch(ctx, req, record);
    } catch (error) {
      const e = error instanceof AirlockError ? error : new AirlockError('EGRESS_UPSTREAM_FAILED', String(error));
      if (record.allow) record.ended = e.code;
      else Object.assign(record, { code: e.code, message: e.message, reason: record.reason === 'UNDECIDED' ? e.code : record.reason });
      throw e;
    } finally {
      auditEgress(this.#deps, ctx, record, performance.now() - started);
    }
  }

  async #fetch(ctx: EgressContext, req: GatewayRequest, record: EgressRecord): Promise<GatewayResponse> {
    const fail = (why: string, error: AirlockError): never => {
      record.reason = why;
      throw error;
    };
    const limits = this.#deps.limits;
    const target = parseAbsolute(req.url);
    if (!target.ok) return fail(target.why, target.error);
    Object.assign(record, { scheme: target.value.scheme, host: target.value.host, port: target.value.port, path: target.value.path });
    const method = checkMethod(record.method);
    if (!method.ok) return fail(method.why, method.error);
    const headerBytes = req.headers.reduce((n, [k, v]) => n + k.length + v.length + 4, req.url.length + 16);
    if (headerBytes > limits.maxHeaderBytes) {
      return fail('HEADERS_TOO_LARGE', new AirlockError('EGRESS_TOO_LARGE', `the URL and headers are ${headerBytes} bytes, over the gateway's ${limits.maxHeaderBytes}: send fewer or shorter headers`));
    }
    if (!req.headers.every(([k, v]) => TOKEN.test(k) && FIELD.test(v))) {
      return fail('BAD_HEADER', new AirlockError('EGRESS_BAD_REQUEST', 'a header name is not an HTTP token, or a value holds a line break: fix the header'));
    }
    const hosts = req.headers.filter(([k]) => k.toLowerCase() === 'host').map(([, v]) => v);
    const host = checkHostHeader(hosts, target.value);
    if (!host.ok) return fail(host.why, host.error);
    if (req.body !== undefined && req.body.byteLength > limits.maxBodyBytes) {
      return fail('BODY_TOO_LARGE', new AirlockError('EGRESS_TOO_LARGE', `the request body is ${req.body.byteLength} bytes, over the gateway's ${limits.maxBodyBytes}: send less`));
    }
    const result = await exchange(this.#deps, ctx, record, target.value, req.headers, req.body, req.signal);
    if (!result.ok) throw result.error;
    const headers = responseHeaders(result.response, result.credential);
    const body = await readBody(result.body(result.response), result.credential);
    return { status: result.response.statusCode ?? 502, headers, body: new Uint8Array(body) };
  }

  /**
   * Container tier: a unix socket bound to one sandbox's context. Give `owner` to make the socket
   * the sandbox uid's alone (mode 0600); otherwise it is 0666 inside the 0711 directory.
   */
  async socketFor(ctx: GatewayContext, options: { readonly owner?: { uid: number; gid: number } } = {}): Promise<SandboxSocket> {
    await this.listen();
    const path = join(this.#dir ?? '', `${randomUUID()}.sock`);
    const stopping = new AbortController();
    const onDenialsSpent = (): void => {
      ctx.onDenialsSpent?.();
      stopping.abort(new AirlockError('LIMIT_DENIALS', denialsSpentMessage(ctx.policy)));
    };
    const server = createProxyServer(this.#deps, { ...ctx, onDenialsSpent });
    const sockets = new Set<Socket>();
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    this.#servers.set(server, sockets);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    if (options.owner !== undefined) await chown(path, options.owner.uid, options.owner.gid);
    await chmod(path, options.owner === undefined ? 0o666 : 0o600);
    return { path, stop: stopping.signal, close: () => this.#closeServer(server) };
  }

  async #closeServer(server: Server): Promise<void> {
    const sockets = this.#servers.get(server);
    if (sockets === undefined) return;
    this.#servers.delete(server);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
    await closed;
  }
}
