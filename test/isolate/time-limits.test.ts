// Wall and CPU limits on the slices a run is made of: the guest's synchronous stretch (bounded by
// cpuMs of elapsed time, since a policy's cpuMs never exceeds its wallMs) and what runs after a
// host answer (bounded by what is left of both), and a run that waits forever (the wall timer).
// Each stop beside a control that does the same kind of work within its limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyDocument } from '../../src/index.ts';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

const limits = (wallMs: number, cpuMs: number): PolicyDocument => ({ ...TEST_POLICY, limits: { ...TEST_POLICY.limits, wallMs, cpuMs } });
const spinFor = (ms: number): string => `const until = Date.now() + ${ms}; while (Date.now() < until) {}`;

test('a synchronous loop stops at its limit (cpuMs never exceeds wallMs); the same kind of work within it completes', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'for (;;) {}', policy: limits(300, 300) });
  assert.equal(r.status, 'timeout');
  // The reason is what was really spent: CPU when the loop had the CPU, wall time when a busy
  // machine (the other test files) kept it off the CPU long enough (the worker's 5 ms sample).
  assert.equal(r.error?.code, r.usage.cpuMs >= 300 - 5 ? 'CPU_TIMEOUT' : 'WALL_TIMEOUT', `cpu ${r.usage.cpuMs} ms, wall ${r.usage.wallMs} ms`);
  assert.ok(r.usage.cpuMs <= r.usage.wallMs + 5, `cpuMs never exceeds wallMs: cpu ${r.usage.cpuMs}, wall ${r.usage.wallMs}`);
  assert.ok(r.usage.wallMs >= 280 && r.usage.wallMs < 1500, `stopped after ${r.usage.wallMs} ms`);
  const control = await airlock.run({ code: `${spinFor(100)}\nexport default 'done'`, policy: limits(300, 300) });
  assert.equal(control.status, 'ok');
  assert.equal(control.result, 'done');
});

test('a synchronous loop under a CPU limit stops with CPU_TIMEOUT having used about that much CPU', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'for (;;) {}', policy: limits(5000, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
  assert.ok(r.usage.cpuMs >= 200 && r.usage.cpuMs < 1000, `used ${r.usage.cpuMs} ms of CPU`);
  assert.ok(r.usage.wallMs < 2000, `stopped after ${r.usage.wallMs} ms`);
});

test('CPU spent after a tool answer is limited by what is left of cpuMs; the same work within it completes', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'await tools.add({ a: 1, b: 2 });\nfor (;;) {}', policy: limits(5000, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
  assert.ok(r.usage.wallMs < 2500, `stopped after ${r.usage.wallMs} ms`);
  const control = await airlock.run({ code: `const n = await tools.add({ a: 1, b: 2 });\n${spinFor(100)}\nexport default n`, policy: limits(5000, 300) });
  assert.equal(control.status, 'ok');
  assert.equal(control.result, 3);
});

test('a microtask loop after a tool answer is stopped by the CPU limit', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'await tools.add({ a: 1, b: 2 });\nfor (;;) await null;', policy: limits(5000, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
  assert.ok(r.usage.wallMs < 2500, `stopped after ${r.usage.wallMs} ms`);
});

test('parallel tool calls each get their own answer', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'export default await Promise.all([1, 2, 3, 4].map((a) => tools.add({ a, b: 10 })));', policy: TEST_POLICY });
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.result, [11, 12, 13, 14]);
});

test('a run that awaits forever ends at its wall limit, having used almost no CPU', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'await new Promise(() => {});', policy: limits(300, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'WALL_TIMEOUT');
  assert.ok(r.usage.cpuMs < 100, `used ${r.usage.cpuMs} ms of CPU`);
});
