// Figure for the tool-argument byte budget: the host event loop's worst delay while one run sends
// 99 tool calls of ~3 MB arguments under the default limits. Prints one JSON line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAirlock } from '../src/index.ts';

await using airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-stall-')), isolate: { workersPerTenant: 1 }, tools: { sink: () => 1 } });
const policy = { version: 1 as const, tools: { sink: { operation: 'compute' as const, args: { type: 'object' } } }, limits: { wallMs: 60_000, cpuMs: 60_000, memoryMiB: 256, toolMs: 10_000 } };
await airlock.run({ code: 'export default 1', policy });
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const r = await airlock.run({ code: "const s = 'x'.repeat(3_000_000); for (let i = 0; i < 99; i++) await tools.sink({ s }); export default 'all sent'", policy });
delay.disable();
console.log(JSON.stringify({ status: r.status, code: r.error?.code ?? null, guestCpuMs: Math.round(r.usage.cpuMs), wallMs: Math.round(r.usage.wallMs), loopMaxMs: Math.round(delay.max / 1e6) }));
