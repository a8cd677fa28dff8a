// Wall and CPU limits on the slices a run is made of: the guest's synchronous stretch and what runs
// after a host answer, each bounded by what is left of wallMs in elapsed time and of cpuMs in CPU
// time (the worker's backstop thread), and a run that waits forever (the wall timer).
// Each stop beside a control that does the same kind of work within its limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyDocument } from '../../src/index.ts';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

const limits = (wallMs: number, cpuMs: number): PolicyDocument => ({ ...TEST_POLICY, limits: { ...TEST_POLICY.limits, wallMs, cpuMs } });
const spinFor = (ms: number): string => `const until = Date.now() + ${ms}; while (Date.now() < until) {}`;

test('a synchronous loop stops at its limit; the same kind of work within it completes', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'for (;;) {}', policy: limits(300, 300) });
  assert.equal(r.status, 'timeout');
  // The reason is the limit that was really passed: CPU only when the loop had spent its cpuMs,
  // wall time when the wall clock ran out first (a busy machine kept the loop off the CPU).
  assert.equal(r.error?.code, r.usage.cpuMs >= 300 ? 'CPU_TIMEOUT' : 'WALL_TIMEOUT', `cpu ${r.usage.cpuMs} ms, wall ${r.usage.wallMs} ms`);
  assert.ok(r.usage.cpuMs <= r.usage.wallMs + 5, `cpuMs never exceeds wallMs: cpu ${r.usage.cpuMs}, wall ${r.usage.wallMs}`);
  assert.ok(r.usage.wallMs >= 280 && r.usage.wallMs < 1500, `stopped after ${r.usage.wallMs} ms`);
  const control = await airlock.run({ code: `${spinFor(100)}\nexport default 'done'`, policy: limits(300, 300) });
  assert.equal(control.status, 'ok');
  assert.equal(control.result, 'done');
});

test('a synchronous loop under a CPU limit stops with CPU_TIMEOUT having used about that much CPU', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'for (;;) {}', policy: limits(60_000, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
  assert.ok(r.usage.cpuMs >= 300 && r.usage.cpuMs < 400, `used ${r.usage.cpuMs} ms of CPU`);
});

test('CPU spent after a tool answer is limited by what is left of cpuMs; the same work within it completes', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'await tools.add({ a: 1, b: 2 });\nfor (;;) {}', policy: limits(60_000, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
  // Stopped near its CPU limit, whatever the wall clock (a busy machine stretches that).
  assert.ok(r.usage.cpuMs >= 300 && r.usage.cpuMs < 400, `used ${r.usage.cpuMs} ms of CPU`);
  const control = await airlock.run({ code: `const n = await tools.add({ a: 1, b: 2 });\n${spinFor(100)}\nexport default n`, policy: limits(60_000, 300) });
  assert.equal(control.status, 'ok');
  assert.equal(control.result, 3);
});

test('a microtask loop after a tool answer is stopped by the CPU limit', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'await tools.add({ a: 1, b: 2 });\nfor (;;) await null;', policy: limits(60_000, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
  assert.ok(r.usage.cpuMs >= 300 && r.usage.cpuMs < 400, `used ${r.usage.cpuMs} ms of CPU`);
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

// Waiting is wall time, not CPU. Atomics.wait blocks the guest's own thread without using the
// CPU: exactly what a run sees when a busy host keeps it off the CPU. A slice bounded by cpuMs of
// elapsed time (as before) stopped this run with CPU_TIMEOUT having used almost no CPU.
const waitFor = (ms: number): string => `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});`;

test('a slice that waits past cpuMs without using the CPU is not stopped for CPU; its wall limit still holds', async () => {
  await using airlock = testAirlock();
  const waited = await airlock.run({ code: `${waitFor(400)}\nexport default 'woke'`, policy: limits(3000, 100) });
  assert.equal(waited.status, 'ok', JSON.stringify(waited.error));
  assert.equal(waited.result, 'woke');
  assert.ok(waited.usage.cpuMs < 100 && waited.usage.wallMs >= 400, `cpu ${waited.usage.cpuMs} ms, wall ${waited.usage.wallMs} ms`);
  // After a host answer too.
  const after = await airlock.run({ code: `const n = await tools.add({ a: 1, b: 2 });\n${waitFor(400)}\nexport default n`, policy: limits(3000, 100) });
  assert.equal(after.status, 'ok', JSON.stringify(after.error));
  assert.equal(after.result, 3);
  // Control: the same wait past wallMs is a wall timeout, and spending the CPU is a CPU timeout.
  const tooLong = await airlock.run({ code: `${waitFor(5000)}\nexport default 'woke'`, policy: limits(300, 100) });
  assert.equal(tooLong.error?.code, 'WALL_TIMEOUT', JSON.stringify(tooLong.error));
  const spun = await airlock.run({ code: `${spinFor(2000)}\nexport default 'spun'`, policy: limits(3000, 100) });
  assert.equal(spun.error?.code, 'CPU_TIMEOUT', JSON.stringify(spun.error));
  assert.ok(spun.usage.cpuMs >= 100, `a CPU stop reports the CPU spent: ${spun.usage.cpuMs} ms`);
});
