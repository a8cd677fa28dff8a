// The resource-bomb harness by itself, on both tiers: every bomb is stopped by its limit within
// 1.5 × that limit while the host's heartbeat keeps ticking; a bomb whose limit is over the budget
// is reported as not stopped.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { airlockBombRunner, runBomb, runBombs } from '../../src/check/bombs.ts';
import { DEFAULT_BUDGET } from '../../src/check/budget.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import type { PolicyDocument } from '../../src/policy/schema.ts';
import { checkAirlock } from './helpers.ts';

const fx = checkAirlock();
after(() => fx.close());

const POLICY: PolicyDocument = { version: 1, limits: { cpuMs: 300, wallMs: 3000, memoryMiB: 64, pids: 32, workspaceMiB: 16, outputBytes: 32 * 1024 } };

for (const tier of ['container', 'isolate'] as const) {
  test(`${tier}: every bomb is stopped within 1.5 × its limit and the host stays responsive`, async () => {
    const runner = airlockBombRunner(fx.airlock, { tier, policy: POLICY, tenant: 'bombs' });
    const outcomes = await runBombs(runner, compilePolicy(POLICY).limits);
    assert.deepEqual(outcomes.map((o) => o.kind), ['loop', 'memory', 'fork', 'disk', 'output']);
    for (const o of outcomes) {
      assert.ok(o.ok, o.note);
      if (!o.applicable) continue;
      assert.equal(o.stopped, true, o.note);
      assert.ok(o.measured !== null && o.measured <= 1.5 * o.limit, o.note);
      assert.ok(o.heartbeatMaxGapMs > 0 && o.heartbeatMaxGapMs <= 500, o.note);
    }
    // What stopped each bomb is the limit named for it.
    const code = Object.fromEntries(outcomes.map((o) => [o.kind, o.code]));
    assert.equal(code['loop'], 'CPU_TIMEOUT');
    assert.equal(code['memory'], 'MEMORY_LIMIT');
    assert.equal(code['output'], 'OUTPUT_LIMIT');
    const applicable = outcomes.filter((o) => o.applicable).map((o) => o.kind);
    assert.deepEqual(applicable, tier === 'container' ? ['loop', 'memory', 'fork', 'disk', 'output'] : ['loop', 'memory', 'output']);
  });

  test(`${tier}: a memory limit over the budget lets the bomb reach the budget, reported as not stopped`, async () => {
    const big: PolicyDocument = { version: 1, limits: { memoryMiB: 256 } };
    const runner = airlockBombRunner(fx.airlock, { tier, policy: big, tenant: 'bombs' });
    const o = await runBomb(runner, 'memory', compilePolicy(big).limits, { budget: { ...DEFAULT_BUDGET, memoryMiB: 48 } });
    assert.equal(o.stopped, false, o.note);
    assert.equal(o.ok, false);
    assert.ok(o.measured !== null && o.measured >= 48, o.note);
    assert.match(o.note, /reached its own bound of 48 MiB without being stopped/);
  });
}

for (const tier of ['container', 'isolate'] as const) {
  test(`${tier}: each limit is probed alone: a tiny CPU limit does not stand in for the memory limit, which stops the memory bomb itself`, async () => {
    const tight: PolicyDocument = { version: 1, limits: { cpuMs: 5, memoryMiB: 32 } };
    const runner = airlockBombRunner(fx.airlock, { tier, policy: tight, tenant: 'bombs' });
    const o = await runBomb(runner, 'memory', compilePolicy(tight).limits);
    assert.equal(o.code, 'MEMORY_LIMIT', o.note);
    assert.equal(o.ok, true, o.note);
    assert.ok(o.measured !== null && o.measured <= 48, o.note);
  });

  test(`${tier}: a bomb stopped by another limit than its own does not pass: its limit is reported unverified`, async () => {
    // The output limit ends the memory bomb at its first progress line, long before 48 MiB.
    const mute: PolicyDocument = { version: 1, limits: { memoryMiB: 256, outputBytes: 4 } };
    const runner = airlockBombRunner(fx.airlock, { tier, policy: mute, tenant: 'bombs' });
    const o = await runBomb(runner, 'memory', compilePolicy(mute).limits, { budget: { ...DEFAULT_BUDGET, memoryMiB: 48 } });
    assert.equal(o.code, 'OUTPUT_LIMIT', o.note);
    assert.equal(o.stopped, false, o.note);
    assert.equal(o.ok, false, o.note);
    assert.match(o.note, /stopped by OUTPUT_LIMIT, not by its own limit \(memoryMiB\): that limit is unverified/);
  });
}
