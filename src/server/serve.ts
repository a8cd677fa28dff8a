/**
 * `airlock serve`'s server: one Airlock on the embedded defaults (the SQLite audit log under
 * AIRLOCK_HOME), the API keys beside it, and the HTTP API on 127.0.0.1 by default.
 *
 * Stopping drains: no new connections, what is in flight goes on to its end (bounded by
 * `drainMs`), then the airlock closes — anything still running is stopped and recorded as stopped
 * (STOPPED_BY_HOST), sandboxes are destroyed, the audit log is flushed and closed.
 *
 * @example
 *   const server = await startServer({ port: 0 });
 *   console.log(server.url);      // http://127.0.0.1:41234
 *   await server.close();         // drains, then closes the airlock
 */
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { AirlockError } from '../core/errors.ts';
import { DurableAuditSink } from '../audit/durable-sink.ts';
import { SqliteAuditStore } from '../audit/sqlite-store.ts';
import type { AuditDurabilitySettings } from '../audit/wal-sync.ts';
import { airlockHome } from '../runtime/home.ts';
import { createAirlock } from '../runtime/airlock.ts';
import type { AirlockOptions } from '../runtime/options.ts';
import type { WarrantOptions } from '../runtime/authority-host.ts';
import type { QuotaOptions } from '../runtime/quotas.ts';
import { buildApp } from './app.ts';
import { AuditFeed } from './audit-feed.ts';
import { SERVE_DEFAULTS } from './defaults.ts';
import { KeyStore } from './keys.ts';
import { PolicyStore } from './policy-store.ts';
import { RateLimiter } from './rate.ts';
import { SandboxTable } from './sandboxes.ts';
import { StreamSlots } from './stream-slots.ts';
import { warrantKeys, type WarrantSigning } from './warrant-keys.ts';

export interface ServeOptions {
  /** AIRLOCK_HOME (default: $AIRLOCK_HOME or ~/.airlock). */
  readonly home?: string;
  /** Address to listen on (default 127.0.0.1: this machine only). */
  readonly hostname?: string;
  /** Port (default 7878; 0 picks a free one). */
  readonly port?: number;
  /** Host header values served besides 127.0.0.1:PORT and localhost:PORT. */
  readonly allowHosts?: readonly string[];
  /** Browser Origins allowed to call (default none). */
  readonly allowOrigins?: readonly string[];
  /** Largest request body, in bytes (default 2 MiB). */
  readonly maxBodyBytes?: number;
  /** Requests per minute per API key (default 600). */
  readonly ratePerMinute?: number;
  /** Event streams (GET /v1/runs/events) one API key may hold open at once (default 8). */
  readonly streamsPerKey?: number;
  /** How long a stop waits for requests in flight before stopping them (default 30 s). */
  readonly drainMs?: number;
  readonly quotas?: QuotaOptions;
  /** The root keys a run's warrant must chain to (a run's body may carry one); absent, a warrant is refused. */
  readonly warrants?: WarrantOptions;
  /** When the audit log reaches the disk: 'durable' (default) or 'batched' within flushMs (src/audit/wal-sync.ts). */
  readonly audit?: AuditDurabilitySettings;
  /** The private keys POST /v1/warrants signs with (absent: it makes none). */
  readonly warrantSigning?: WarrantSigning;
  /** Isolate workers: the cap, idle retirement, and the host's trust cordons (createAirlock's `isolate`). */
  readonly isolate?: AirlockOptions['isolate'];
  /** Where the server logs (default: stderr). */
  readonly log?: (line: string) => void;
}

export { SERVE_DEFAULTS };

/** After the airlock closed, how long the stopped requests' answers get to be written. */
const ANSWER_GRACE_MS = 5000;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Drains and closes; every call waits for the one close. */
  close(): Promise<void>;
}

function hostOf(hostname: string, port: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
}

/** Listens first, with no handler yet: the Host rules name the port, which is known only now. */
async function listen(hostname: string, port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      // A port in use or an address this host lacks is the caller's to change, not a crash.
      reject(new AirlockError('INVALID_REQUEST', `cannot listen on ${hostOf(hostname, port)} (${error.code ?? error.message}): choose another --host or --port`));
    });
    server.listen(port, hostname, () => resolve(server));
  });
}

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const home = airlockHome(options.home);
  const hostname = options.hostname ?? SERVE_DEFAULTS.hostname;
  // The store stays open for the tenant's queries; the airlock's sink closes it with the log.
  // Heard live by the run event streams: each record once it is durable.
  const audit = new AuditFeed(SqliteAuditStore.open({ path: join(home, 'audit.db'), ...options.audit }));
  const airlock = createAirlock({ home, audit: new DurableAuditSink(audit), ...(options.quotas === undefined ? {} : { quotas: options.quotas }), ...(options.warrants === undefined ? {} : { warrants: options.warrants }), ...(options.isolate === undefined ? {} : { isolate: options.isolate }) });
  const keys = KeyStore.open(home);
  const policies = PolicyStore.open(home);
  let server: Server;
  try {
    server = await listen(hostname, options.port ?? SERVE_DEFAULTS.port);
  } catch (error) {
    keys.close();
    policies.close();
    await airlock.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const app = buildApp({
    parts: { airlock, audit, feed: audit, streams: new StreamSlots({ perKey: options.streamsPerKey ?? SERVE_DEFAULTS.streamsPerKey }), warrants: warrantKeys(options.warrants, options.warrantSigning), sandboxes: new SandboxTable(), policies, home },
    keys,
    rate: new RateLimiter({ perMinute: options.ratePerMinute ?? SERVE_DEFAULTS.ratePerMinute }),
    hosts: { hosts: [hostOf(hostname, port), `127.0.0.1:${port}`, `localhost:${port}`, ...(options.allowHosts ?? [])], origins: options.allowOrigins ?? [] },
    maxBodyBytes: options.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes,
    log,
  });
  const listener = getRequestListener(app.fetch);
  server.on('request', (req, res) => void listener(req, res));
  const drainMs = options.drainMs ?? SERVE_DEFAULTS.drainMs;

  /** Resolves when the server has closed, or after `ms`, whichever is first. */
  const closedWithin = async (closed: Promise<void>, ms: number): Promise<void> => {
    const timer: { id?: NodeJS.Timeout } = {};
    await Promise.race([closed, new Promise<void>((resolve) => (timer.id = setTimeout(resolve, ms)))]);
    clearTimeout(timer.id);
  };
  const drain = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Event streams would follow the log forever: they end now, and their clients reconnect elsewhere.
    audit.endListeners();
    // Keep-alive connections between requests hold the server open: close them as they go idle.
    server.closeIdleConnections();
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    await closedWithin(closed, drainMs);
    // Past drainMs the airlock's close stops what still runs, recorded as stopped; the answers
    // (and command streams) then end by themselves, given a moment to be written.
    await airlock.close();
    await closedWithin(closed, ANSWER_GRACE_MS);
    server.closeAllConnections();
    await closed;
    clearInterval(idle);
    keys.close();
    policies.close();
  };
  let done: Promise<void> | null = null;
  return {
    url: `http://${hostOf(hostname, port)}`,
    port,
    close: () => (done ??= drain()),
  };
}
