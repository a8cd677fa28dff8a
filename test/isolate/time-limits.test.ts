// Wall and CPU limits on both halves of a run: the guest's synchronous stretch (run on the worker
// thread, bounded by cpuMs of elapsed time, since a policy's cpuMs never exceeds its wallMs) and what runs after an await (on
// isolated-vm's threads, bounded by the worker's wall timer and CPU sampler). Each stop beside a
// control that does the same kind of work within its limit.
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
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
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

test('CPU spent after an await (off the worker thread) is still limited; the same work within the limit completes', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'await tools.add({ a: 1, b: 2 });\nfor (;;) {}', policy: limits(5000, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'CPU_TIMEOUT');
  assert.ok(r.usage.wallMs < 2500, `stopped after ${r.usage.wallMs} ms`);
  const control = await airlock.run({ code: `const n = await tools.add({ a: 1, b: 2 });\n${spinFor(100)}\nexport default n`, policy: limits(5000, 300) });
  assert.equal(control.status, 'ok');
  assert.equal(control.result, 3);
});

test('a run that awaits forever ends at its wall limit, having used almost no CPU', async () => {
  await using airlock = testAirlock();
  const r = await airlock.run({ code: 'await new Promise(() => {});', policy: limits(300, 300) });
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'WALL_TIMEOUT');
  assert.ok(r.usage.cpuMs < 100, `used ${r.usage.cpuMs} ms of CPU`);
});
