// Figure for the denial budget: one isolate run floods denied fetches with 7 KB paths for up to
// 20 s (toolCalls at its ceiling) on the embedded SQLite log. Prints one JSON line: how the run
// ended, the events it left, audit.db's size and the host heap's growth.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAirlock } from '../src/index.ts';

const home = mkdtempSync(join(tmpdir(), 'airlock-flood-'));
const url = `http://example.com/${'p'.repeat(7000)}`;
const size = (): number => statSync(join(home, 'audit.db')).size + (statSync(join(home, 'audit.db-wal'), { throwIfNoEntry: false })?.size ?? 0);
{
  await using airlock = createAirlock({ home, isolate: { workersPerTenant: 1 } });
  const policy = {
    version: 1 as const,
    limits: { wallMs: 20_000, cpuMs: 20_000, toolCalls: 100_000 },
    network: { routes: [{ host: 'api.airlock', scheme: 'http' as const, forward: { to: 'http://127.0.0.1:9' } }] },
  };
  await airlock.run({ code: 'export default 1', policy });
  const before = { heap: process.memoryUsage().heapUsed, db: size() };
  const r = await airlock.run({ code: `let n = 0; for (;;) { try { await fetch(${JSON.stringify(url)}); } catch { n++; } } export default n`, policy });
  const heap = process.memoryUsage().heapUsed;
  await airlock.audit.flush();
  console.log(JSON.stringify({ status: r.status, code: r.error?.code ?? null, wallMs: Math.round(r.usage.wallMs), violations: r.violations.length, dbGrowthBytes: size() - before.db, heapGrowthMiB: Math.round((heap - before.heap) / 1048576) }));
}
