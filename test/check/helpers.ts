// Shared fixtures for the check tests: an Airlock with a private home and an in-memory audit log,
// and a local HTTP upstream that counts what reached it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { createAirlock, type Airlock, type AirlockOptions } from '../../src/index.ts';

export interface CheckFixture {
  readonly airlock: Airlock;
  readonly audit: MemoryAuditSink;
  readonly home: string;
  close(): Promise<void>;
}

export function checkAirlock(options: Omit<AirlockOptions, 'home' | 'audit'> = {}): CheckFixture {
  const home = mkdtempSync(join(tmpdir(), 'airlock-check-test-'));
  const audit = new MemoryAuditSink();
  const airlock = createAirlock({ home, audit, isolate: { workersPerTenant: 1 }, ...options });
  return {
    airlock,
    audit,
    home,
    close: async () => {
      await airlock.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface Upstream {
  readonly port: number;
  readonly requests: string[];
  close(): Promise<void>;
}

/** An HTTP server on the host's loopback that records every request line. */
export async function startUpstream(): Promise<Upstream> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
