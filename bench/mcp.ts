// MCP front end figures, with their baselines measured in the same run:
//   mcp_run_code_ms           run_code through `airlock mcp` on stdio (the real CLI, the SDK's client), median
//   library_run_ms_mcp        baseline: the same run through createAirlock().run() in-process, median
//   mcp_call_overhead_ms      mcp_run_code_ms − library_run_ms: what the MCP front end adds
//   codemode_3calls_ms        one `execute` through `airlock gateway` (code mode) whose program makes
//                             three upstream tool calls, median
//   direct_3calls_ms          beside it: the same three calls as three MCP tool calls through the
//                             gateway (each one run through the bridge), median
//   upstream_3calls_ms        baseline: the same three calls straight to the upstream server, median
// Samples are interleaved so a busy machine weighs on all alike. Run alone: node bench/mcp.ts
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createAirlock } from '../src/runtime/airlock.ts';
import { median, round } from './stats.ts';

const RUNS = 60;
const WARMUP = 5;
const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const UPSTREAM = join(import.meta.dirname, '..', 'test', 'fixtures', 'mcp-upstream.ts');
const CODE = 'export default (input) => input.n * 2';
const PROGRAM = `export default async () => {
  const one = await tools.fx.add({ a: 1, b: 2 }) as { sum: number };
  const two = await tools.fx.add({ a: one.sum, b: 3 }) as { sum: number };
  return (await tools.fx.echo({ text: 'n=' + two.sum }) as { echoed: string }).echoed;
};`;

function env(home: string): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  return { ...base, AIRLOCK_HOME: home };
}

async function connect(command: string, args: string[], home: string): Promise<Client> {
  const client = new Client({ name: 'airlock-bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, env: env(home), stderr: 'ignore' }));
  return client;
}

function gatewayConfig(home: string, codeMode: boolean): string {
  const policy = { version: 1, tools: { 'fx.echo': { operation: 'read', args: { type: 'object' } }, 'fx.add': { operation: 'compute', args: { type: 'object' } } } };
  const config = { version: 1, policy, codeMode, upstreams: { fx: { command: process.execPath, args: [UPSTREAM], tools: { echo: { operation: 'read' }, add: { operation: 'compute' } } } } };
  const path = join(home, `gateway-${codeMode ? 'code' : 'direct'}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

async function threeCalls(client: Client, prefix: string): Promise<void> {
  const one = (await client.callTool({ name: `${prefix}add`, arguments: { a: 1, b: 2 } })).structuredContent as { sum: number };
  const two = (await client.callTool({ name: `${prefix}add`, arguments: { a: one.sum, b: 3 } })).structuredContent as { sum: number };
  const said = (await client.callTool({ name: `${prefix}echo`, arguments: { text: `n=${two.sum}` } })).structuredContent as { echoed: string };
  if (said.echoed !== 'n=6') throw new Error(`three calls answered ${JSON.stringify(said)}`);
}

export async function benchMcp(): Promise<Record<string, number>> {
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-mcp-'));
  const airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-bench-mcp-lib-')) });
  const mcp = await connect(process.execPath, [MAIN, 'mcp'], home);
  const codeGateway = await connect(process.execPath, [MAIN, 'gateway', '--config', gatewayConfig(home, true)], home);
  const directGateway = await connect(process.execPath, [MAIN, 'gateway', '--config', gatewayConfig(home, false)], home);
  const upstream = await connect(process.execPath, [UPSTREAM], home);
  const samples = { mcp: [] as number[], library: [] as number[], code: [] as number[], direct: [] as number[], upstream: [] as number[] };
  const steps: [keyof typeof samples, () => Promise<void>][] = [
    ['library', async () => {
      if ((await airlock.run({ code: CODE, input: { n: 21 } })).result !== 42) throw new Error('the library run failed');
    }],
    ['mcp', async () => {
      const r = await mcp.callTool({ name: 'run_code', arguments: { code: CODE, input: { n: 21 } } });
      if ((r.structuredContent as { result: unknown }).result !== 42) throw new Error(`run_code failed: ${JSON.stringify(r)}`);
    }],
    ['code', async () => {
      const r = await codeGateway.callTool({ name: 'execute', arguments: { code: PROGRAM } });
      if ((r.structuredContent as { result: unknown }).result !== 'n=6') throw new Error(`execute failed: ${JSON.stringify(r)}`);
    }],
    ['direct', () => threeCalls(directGateway, 'fx.')],
    ['upstream', () => threeCalls(upstream, '')],
  ];
  try {
    for (let i = 0; i < WARMUP; i++) for (const [, step] of steps) await step();
    for (let i = 0; i < RUNS; i++) {
      for (const [name, step] of steps) {
        const t = performance.now();
        await step();
        samples[name].push(performance.now() - t);
      }
    }
  } finally {
    await Promise.all([mcp, codeGateway, directGateway, upstream].map((c) => c.close()));
    await airlock.close();
  }
  const m = median(samples.mcp);
  const l = median(samples.library);
  return {
    mcp_run_code_ms: round(m),
    library_run_ms_mcp: round(l),
    mcp_call_overhead_ms: round(m - l),
    codemode_3calls_ms: round(median(samples.code)),
    direct_3calls_ms: round(median(samples.direct)),
    upstream_3calls_ms: round(median(samples.upstream)),
  };
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(await benchMcp())}\n`);
