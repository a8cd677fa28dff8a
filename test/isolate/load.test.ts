// Benign runs under load: one tenant's load, or another tenant's infinite loops, never stop a run
// that stays within its own limits. 400 trivial runs (one tool call each), 50 at a time across 20
// tenants, under a 200 ms CPU limit: each spends a few ms of CPU and may wait for a CPU far longer
// than 200 ms, which is wall time (generous here: the claim under test is the CPU limit's).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyDocument, RunResult } from '../../src/index.ts';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

const BENIGN: PolicyDocument = { ...TEST_POLICY, limits: { ...TEST_POLICY.limits, cpuMs: 200, wallMs: 30_000, toolMs: 30_000 } };
const HOSTILE: PolicyDocument = { ...TEST_POLICY, limits: { ...TEST_POLICY.limits, cpuMs: 200, wallMs: 30_000 } };
const RUNS = 400;
const AT_ONCE = 50;
const TENANTS = 20;

async function load(hostile: 'with hostile loops' | 'benign only'): Promise<{ benign: RunResult[]; hostile: RunResult[] }> {
  await using airlock = testAirlock();
  const benign: RunResult[] = [];
  const bad: RunResult[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < RUNS; i = next++) {
      // One run in ten is an infinite loop in one of two other tenants.
      if (hostile === 'with hostile loops' && i % 10 === 9) {
        bad.push(await airlock.run({ tenant: `hostile-${i % 20 === 9 ? 'a' : 'b'}`, code: 'for (;;) {}', policy: HOSTILE }));
      }
      benign.push(await airlock.run({ tenant: `t${i % TENANTS}`, code: `export default await tools.add({ a: ${i}, b: 1 })`, policy: BENIGN }));
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, lane));
  return { benign, hostile: bad };
}

for (const mode of ['benign only', 'with hostile loops'] as const) {
  test(`400 benign runs, 50 at a time across 20 tenants, cpuMs 200, ${mode}: none fails`, async () => {
    const { benign, hostile } = await load(mode);
    assert.equal(benign.length, RUNS);
    const failed = benign.filter((r) => r.status !== 'ok');
    assert.deepEqual(failed.map((r) => `${r.status} ${r.error?.code}: ${r.error?.message} (cpu ${r.usage.cpuMs}, wall ${r.usage.wallMs})`).slice(0, 5), [], `${failed.length} benign runs failed`);
    assert.ok(benign.every((r) => typeof r.result === 'number' && r.usage.cpuMs < 200), 'every benign run answered, under its CPU limit');
    // Control: the hostile loops were really stopped, by their own CPU limit.
    if (mode === 'with hostile loops') {
      assert.equal(hostile.length, RUNS / 10);
      for (const r of hostile) assert.equal(r.error?.code, 'CPU_TIMEOUT', JSON.stringify(r.error));
    }
  });
}
