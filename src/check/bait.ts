/**
 * Host-side bait for the probes: things a sandbox must not reach, each counting what reached it.
 *   - an HTTP server on the host's loopback (a direct socket or an un-granted request);
 *   - a UDP listener on the host's loopback (DNS, or any datagram);
 *   - a canary variable in the host process's environment (leaks of the host's env);
 *   - a canary file in a fresh world-readable host directory (reads outside the workspace).
 * The sandbox is never told the canary values; the host looks for them in what the probe reports.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BaitHits {
  /** TCP connections the HTTP bait accepted. */
  readonly connections: number;
  /** Request lines it saw. */
  readonly requests: readonly string[];
  /** Datagrams the UDP bait received. */
  readonly datagrams: number;
}

export interface Bait extends AsyncDisposable {
  /** A random value planted in the host env and the canary file; never sent to a sandbox. */
  readonly token: string;
  /** Name of the host environment variable holding `token`. */
  readonly envName: string;
  readonly http: { readonly host: '127.0.0.1'; readonly port: number };
  readonly udp: { readonly host: '127.0.0.1'; readonly port: number };
  /** A world-readable file holding `token`, in a fresh directory outside any workspace. */
  readonly file: string;
  hits(): BaitHits;
  close(): Promise<void>;
}

/**
 * @example
 *   await using bait = await startBait();
 *   // … run a probe that tries bait.http.port …
 *   bait.hits().connections // 0 when the sandbox could not reach the host
 */
export async function startBait(): Promise<Bait> {
  const token = `airlock-canary-${randomBytes(12).toString('hex')}`;
  const envName = `AIRLOCK_CHECK_CANARY_${randomBytes(4).toString('hex').toUpperCase()}`;
  const seen = { connections: 0, requests: [] as string[], datagrams: 0 };
  const server = createServer((req, res) => {
    seen.requests.push(`${req.method ?? '?'} ${req.url ?? ''}`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('reached the host\n');
  });
  server.on('connection', () => {
    seen.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const udp = createSocket('udp4');
  udp.on('message', () => {
    seen.datagrams++;
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'airlock-check-bait-'));
  await chmod(dir, 0o755);
  const file = join(dir, 'canary.txt');
  await writeFile(file, `${token}\n`, { mode: 0o644 });
  // The host's own environment, as a host keeps its credentials: a leak of it shows this name.
  process.env[envName] = token;
  const close = async (): Promise<void> => {
    Reflect.deleteProperty(process.env, envName);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  return {
    token,
    envName,
    http: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
    udp: { host: '127.0.0.1', port: udp.address().port },
    file,
    hits: () => ({ connections: seen.connections, requests: [...seen.requests], datagrams: seen.datagrams }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
