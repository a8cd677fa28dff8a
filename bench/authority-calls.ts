// What a warrant and labels add to a tool call, measured the way tool_call_p50_us is (the
// difference between a run of 2,001 calls and a run of 1, per call), all three in the same run,
// interleaved, on the same airlock: a plain granted call, the same under a warrant (a cached chain:
// authorize is the match), and under a warrant with labels (the result's label joined, a sink check
// on a label of 20 atoms).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '../src/authority/keys.ts';
import { mintWarrant } from '../src/authority/mint.ts';
import { createAirlock, MemoryAuditSink, type PolicyDocument } from '../src/index.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const round = (x: number, d = 1): number => Number(x.toFixed(d));

export async function benchAuthorityCalls(): Promise<Record<string, number>> {
  const root = generateSigningKey();
  const sources = Array.from({ length: 20 }, (_x, i) => ({ id: `t${i}`, readers: ['me@corp.example', 'ann@corp.example'] }));
  const tools = {
    echo: { handler: (a: unknown) => a, operation: 'read', resources: ['doc:{i}'] },
    'doc.read': {
      handler: (a: unknown) => ({ id: `t${(a as { i: number }).i % 20}`, readers: sources[0]?.readers }),
      operation: 'read',
      resources: ['doc:{i}'],
      labels: { reveals: [{ kind: 'doc', id: 'id', readers: ['readers[]'], authors: ['$host'] }] },
    },
    'doc.send': { handler: () => true, operation: 'send', labels: { reveals: [], sink: { audience: [{ from: 'argument', path: 'to' }], control: [] } } },
  };
  const any = { type: 'object' };
  const policy: PolicyDocument = { version: 1, tools: { echo: { operation: 'read', args: any }, 'doc.read': { operation: 'read', args: any }, 'doc.send': { operation: 'send', args: any } }, limits: { toolCalls: 10_000, wallMs: 60_000, cpuMs: 60_000 } };
  await using airlock = createAirlock({
    home: mkdtempSync(join(tmpdir(), 'airlock-bench-')),
    audit: new MemoryAuditSink(),
    tools: tools,
    warrants: { trustedKeys: new Map([[root.kid, root.publicKey]]) },
    labels: { principals: () => ({ user: ['me@corp.example'] }) },
  });
  const warrant = mintWarrant({ signer: root, tenant: 'bench', now: Date.now(), expiresAt: Date.now() + 3_600_000, grants: [{ tool: '**', ops: ['read', 'send'] }] });
  await airlock.prewarm('bench');
  const loop = (n: number, call: string): string => `for (let i = 0; i < ${n}; i++) await ${call};`;
  // The labelled case reads 20 sources first (the run's label then holds 20 atoms), then sends.
  const labelled = (n: number): string => `for (let i = 0; i < 20; i++) await tools.doc.read({ i }); ${loop(n, "tools.doc.send({ to: 'ann@corp.example' })")}`;
  const perCall = async (code: (n: number) => string, withWarrant: 'warrant' | 'none'): Promise<number> => {
    const extra = withWarrant === 'warrant' ? { warrant } : {};
    const one = await airlock.run({ tenant: 'bench', code: code(1), policy, ...extra });
    const many = await airlock.run({ tenant: 'bench', code: code(2001), policy, ...extra });
    if (one.status !== 'ok' || many.status !== 'ok') throw new Error(`bench run failed: ${JSON.stringify(one.error ?? many.error)}`);
    return ((many.usage.wallMs - one.usage.wallMs) / 2000) * 1000;
  };
  const plain: number[] = [];
  const warranted: number[] = [];
  const both: number[] = [];
  for (let i = 0; i < 7; i++) {
    plain.push(await perCall((n) => loop(n, 'tools.echo({ i })'), 'none'));
    warranted.push(await perCall((n) => loop(n, 'tools.echo({ i })'), 'warrant'));
    both.push(await perCall(labelled, 'warrant'));
  }
  return {
    tool_call_plain_p50_us: round(median(plain)),
    tool_call_warrant_p50_us: round(median(warranted)),
    tool_call_warrant_overhead_us: round(median(warranted) - median(plain)),
    tool_call_warrant_labels_p50_us: round(median(both)),
    tool_call_warrant_labels_overhead_us: round(median(both) - median(plain)),
  };
}
