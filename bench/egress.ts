// Egress figures, with their baseline measured in the same run, loopback upstream:
//   egress_direct_ms_p50            baseline: one GET straight to the upstream (keep-alive)
//   egress_gateway_ms_p50           the same GET through the gateway's proxy socket (container tier)
//   egress_added_ms_p50             the difference of the two medians
//   egress_fetch_added_ms_p50       the same for the isolate tier's gateway.fetch()
//   egress_forwarded_added_ms_p50   the container tier's whole path: socat (the in-sandbox forwarder,
//                                   run on the host here) on loopback TCP → the proxy socket
//   egress_requests_per_s           GETs/s through the proxy socket, 8 clients in parallel
//   egress_direct_requests_per_s    baseline: the same straight to the upstream
// Direct and gateway requests alternate, so drift hits both alike. Run alone: node bench/egress.ts
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { MemoryAuditSink } from '../src/audit/memory-sink.ts';
import { EgressGateway } from '../src/egress/gateway.ts';
import { compilePolicy } from '../src/policy/compile.ts';
import { median, round } from './stats.ts';

const SAMPLES = 3000;
const WARMUP = 300;
const PARALLEL = 8;
const THROUGHPUT_REQUESTS = 6000;

function get(agent: Agent, options: { socketPath?: string; port?: number; path: string; hostHeader: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const { hostHeader, ...where } = options;
    const req = request({ agent, host: '127.0.0.1', ...where, headers: { host: hostHeader } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`bench request answered ${res.statusCode ?? 0}`));
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

async function rate(n: number, one: () => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < n) {
        next += 1;
        await one();
      }
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

/** Starts socat as the forwarder would run it, and waits (bounded) until it accepts. */
async function startForwarder(socketPath: string): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const child = spawn('/usr/bin/socat', [`TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${socketPath}`], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (up) return { port, stop: () => child.kill() };
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill();
  throw new Error('socat did not start');
}

/** Measures the gateway's added latency and throughput against direct requests, same run. */
export async function benchEgress(): Promise<Record<string, number>> {
  const upstream = createServer((_req, res) => res.end('ok'));
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const audit = new MemoryAuditSink();
  const gateway = new EgressGateway({ audit, secrets: { get: () => undefined } });
  const ctx = { tenant: 'bench', sandbox: 'sbx_bench', policy: compilePolicy({ version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port, methods: ['GET'], paths: ['/'] }] } }) };
  const sock = await gateway.socketFor(ctx);
  const directAgent = new Agent({ keepAlive: true, maxSockets: PARALLEL });
  const proxyAgent = new Agent({ keepAlive: true, maxSockets: PARALLEL });
  const forwardAgent = new Agent({ keepAlive: true, maxSockets: PARALLEL });
  const forwarder = await startForwarder(sock.path);
  const host = `127.0.0.1:${port}`;
  const direct = (): Promise<void> => get(directAgent, { hostHeader: host, port, path: '/x' });
  const viaProxy = (): Promise<void> => get(proxyAgent, { socketPath: sock.path, path: `http://${host}/x`, hostHeader: host });
  const viaForwarder = (): Promise<void> => get(forwardAgent, { port: forwarder.port, path: `http://${host}/x`, hostHeader: host });
  const viaFetch = async (): Promise<void> => {
    const res = await gateway.fetch(ctx, { method: 'GET', url: `http://${host}/x`, headers: [] });
    if (res.status !== 200) throw new Error(`bench fetch answered ${res.status}`);
  };
  try {
    const times: Record<'direct' | 'proxy' | 'fetch' | 'forward', number[]> = { direct: [], proxy: [], fetch: [], forward: [] };
    const fns = { direct, proxy: viaProxy, fetch: viaFetch, forward: viaForwarder };
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      for (const k of ['direct', 'proxy', 'fetch', 'forward'] as const) {
        const t = performance.now();
        await fns[k]();
        if (i >= WARMUP) times[k].push(performance.now() - t);
      }
      if (audit.events.length > 10_000) audit.events.length = 0; // the bench sink only holds memory
    }
    const p50 = { direct: median(times.direct), proxy: median(times.proxy), fetch: median(times.fetch), forward: median(times.forward) };
    const directRate = await rate(THROUGHPUT_REQUESTS, direct);
    audit.events.length = 0;
    const proxyRate = await rate(THROUGHPUT_REQUESTS, viaProxy);
    return {
      egress_direct_ms_p50: round(p50.direct),
      egress_gateway_ms_p50: round(p50.proxy),
      egress_added_ms_p50: round(p50.proxy - p50.direct),
      egress_fetch_added_ms_p50: round(p50.fetch - p50.direct),
      egress_forwarded_added_ms_p50: round(p50.forward - p50.direct),
      egress_requests_per_s: Math.round(proxyRate),
      egress_direct_requests_per_s: Math.round(directRate),
    };
  } finally {
    directAgent.destroy();
    proxyAgent.destroy();
    forwardAgent.destroy();
    forwarder.stop();
    await gateway.close();
    await new Promise<void>((r) => { upstream.closeAllConnections(); upstream.close(() => r()); });
  }
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(await benchEgress())}\n`);
