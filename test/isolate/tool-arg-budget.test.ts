// Tool arguments are charged to their run by frame length before the host reads a frame whole or
// parses it (limits.toolArgBytes): a run that sends more is stopped LIMIT_TOOL_ARG_BYTES and the
// call that went over never reaches its handler; under the budget, every call arrives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/index.ts';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

const CHUNK = 300_000;

async function runFiveCalls(toolArgBytes: number): Promise<{ seen: number[]; status: string; code: string | null; result: unknown; host: boolean }> {
  const seen: number[] = [];
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({
    audit,
    tools: {
      sink: (args: unknown) => {
        seen.push((args as { data: string }).data.length);
        return seen.length;
      },
      add: (args: unknown) => (args as { a: number }).a + 1,
    },
  });
  const policy = {
    ...TEST_POLICY,
    tools: { sink: { operation: 'compute' as const, args: { type: 'object' } }, add: { operation: 'compute' as const, args: { type: 'object' } } },
    limits: { ...TEST_POLICY.limits, wallMs: 20_000, cpuMs: 10_000, memoryMiB: 64, toolMs: 5_000, toolArgBytes },
  };
  const r = await airlock.run({ code: `let n = 0; for (let i = 0; i < 5; i++) n = await tools.sink({ data: 'x'.repeat(${CHUNK}) }); export default n`, policy });
  // The host goes on serving: the same tenant's next run works.
  const after = await airlock.run({ code: 'export default await tools.add({ a: 41 })', policy });
  return { seen, status: r.status, code: r.error?.code ?? null, result: r.result, host: after.result === 42 };
}

test('a run that sends more tool-argument bytes than limits.toolArgBytes is stopped, and the handler never sees the call that went over', async () => {
  const over = await runFiveCalls(1_000_000);
  assert.equal(over.code, 'LIMIT_TOOL_ARG_BYTES');
  assert.equal(over.status, 'denied');
  assert.deepEqual(over.seen, [CHUNK, CHUNK, CHUNK], 'the handler saw the three calls that fit, not the fourth');
  assert.equal(over.host, true, 'the next run is served');
});

test('control: the same run under the budget completes with every call handled', async () => {
  const under = await runFiveCalls(2_000_000);
  assert.equal(under.status, 'ok', String(under.code));
  assert.equal(under.result, 5);
  assert.deepEqual(under.seen, [CHUNK, CHUNK, CHUNK, CHUNK, CHUNK]);
});
