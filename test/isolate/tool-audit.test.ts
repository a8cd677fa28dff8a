// Every knock on the tool door is an audit event at the moment of decision: a granted call as
// allow, a call to a tool the policy never named as deny — it reaches the host, so it is recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/index.ts';
import { TEST_POLICY, TEST_TOOLS, testAirlock } from '../support/airlock.ts';

test('granted and ungranted tool calls are both decisions in the audit log, with their reasons', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const r = await airlock.run({
    code: 'await tools.add({ a: 1, b: 2 }); try { await tools.sendMail({ to: "x" }); } catch {} try { await tools.add({ a: "no" }); } catch {} export default 1',
    policy: TEST_POLICY,
  });
  assert.equal(r.status, 'ok');
  const decisions = audit.events.flatMap((e) => (e.kind === 'decision' && e.run === r.id ? [[e.subject, e.allow, e.reason]] : []));
  assert.deepEqual(decisions, [
    ['add', true, 'TOOL_GRANTED'],
    ['sendMail', false, 'TOOL_NOT_GRANTED'],
    ['add', false, 'TOOL_ARGS_INVALID'],
  ]);
  assert.deepEqual(r.violations.map((v) => v.code), ['TOOL_NOT_GRANTED', 'TOOL_ARGS_INVALID']);
});

test('a run that goes on knocking after its tool-call limit is stopped: a flood of denials leaves a bounded record', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const policy = { ...TEST_POLICY, limits: { ...TEST_POLICY.limits, toolCalls: 5, wallMs: 10_000, cpuMs: 5000 } };
  const flood = (call: string): string => `for (let i = 0; i < 1e6; i++) { try { await ${call}; } catch {} } export default 'finished'`;
  const decisionsOf = (id: string): number => audit.events.filter((e) => e.kind === 'decision' && e.run === id).length;
  // A route makes fetch exist; the flood knocks on a host it does not name.
  const network = { routes: [{ host: 'api.airlock', scheme: 'http' as const, methods: ['GET' as const], paths: ['/ok'], forward: { to: 'http://127.0.0.1:9' } }] };
  for (const call of ['tools.nope({})', 'tools.add({ a: 1, b: 2 })', 'fetch("http://example.com/")']) {
    const r = await airlock.run({ code: flood(call), policy: call.startsWith('fetch') ? { ...policy, network } : policy });
    assert.equal(r.status, 'denied', `${call}: ${JSON.stringify(r.error)}`);
    assert.equal(r.error?.code, 'LIMIT_TOOL_CALLS');
    assert.ok(r.usage.wallMs < 5000, `${call}: stopped by the limit, not the wall clock (${r.usage.wallMs} ms)`);
    // Five calls spend the budget, one more is told so: nothing of the flood after that is recorded.
    assert.ok(decisionsOf(r.id) <= 6, `${call}: ${decisionsOf(r.id)} decisions recorded`);
    assert.ok(r.violations.length <= 6, `${call}: ${r.violations.length} violations`);
  }
  // Calls fired in parallel and never awaited: the stop may land after the guest returned; the
  // run still ends as stopped, and parallel fetches spend the budget before anything is awaited.
  for (const call of ['tools.nope({})', 'fetch("http://api.airlock/ok")']) {
    const r = await airlock.run({ code: `for (let i = 0; i < 200; i++) ${call}.catch(() => {}); export default 'returned'`, policy: { ...policy, network } });
    assert.equal(r.error?.code, 'LIMIT_TOOL_CALLS', `parallel ${call}: ${JSON.stringify(r.error)}`);
    assert.equal(r.result, null);
    assert.ok(decisionsOf(r.id) <= 6, `parallel ${call}: ${decisionsOf(r.id)} decisions recorded`);
  }
  // Control: a run told once that the budget is spent may catch that and finish with its result.
  const told = await airlock.run({ code: "let n = 0; for (let i = 0; i < 6; i++) { try { await tools.add({ a: 1, b: 2 }); n++; } catch (e) { if (e.code !== 'LIMIT_TOOL_CALLS') throw e; } } export default n", policy });
  assert.equal(told.status, 'ok', JSON.stringify(told.error));
  assert.equal(told.result, 5);
  assert.deepEqual(told.violations.map((v) => v.code), ['LIMIT_TOOL_CALLS']);
});

test("a tool call still in flight when its run ends is aborted: the handler's signal fires, no deadline outlives the run", async () => {
  const seen: { aborted: boolean; at: number }[] = [];
  let started = 0;
  const slow = (_args: unknown, ctx: { signal: AbortSignal }): Promise<number> => {
    started++;
    return new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        seen.push({ aborted: true, at: performance.now() });
        resolve(0);
      });
    });
  };
  await using airlock = testAirlock({ tools: { ...TEST_TOOLS, slow } });
  const policy = { ...TEST_POLICY, tools: { ...TEST_POLICY.tools, slow: { operation: 'write' as const, args: { type: 'object' } } }, limits: { ...TEST_POLICY.limits, toolMs: 60_000, wallMs: 60_000 } };
  const returned = await airlock.run({ code: "tools.slow({}); await tools.add({ a: 1, b: 1 }); export default 'returned'", policy });
  const ended = performance.now();
  assert.equal(returned.result, 'returned', JSON.stringify(returned.error));
  const stopped = await airlock.run({ code: 'tools.slow({}); await tools.add({ a: 1, b: 1 }); for (;;) {}', policy });
  assert.equal(stopped.error?.code, 'CPU_TIMEOUT');
  assert.equal(started, 2, 'control: both handlers were called');
  assert.equal(seen.length, 2, 'both handlers were told their run ended');
  // As its run ended (well within a busy machine's scheduling delay), not at its 60 s deadline.
  assert.ok((seen[0]?.at ?? Infinity) - ended < 5000, "the first handler was aborted as its run ended, not at its 60 s deadline");
});

test('a call that would carry more than 4 MiB of JSON is refused in the guest; a large honest one goes through', async () => {
  const length = (args: unknown): number => (args as string).length;
  await using airlock = testAirlock({ tools: { ...TEST_TOOLS, length } });
  const policy = { ...TEST_POLICY, tools: { ...TEST_POLICY.tools, length: { operation: 'compute' as const, args: { type: 'string' } } }, limits: { ...TEST_POLICY.limits, memoryMiB: 128, wallMs: 10_000, cpuMs: 5000 } };
  // Escaped six-fold in JSON, 16 M control characters once crashed the worker's own heap.
  const r = await airlock.run({ code: "let m; try { await tools.length('\\x01'.repeat(16e6)); } catch (e) { m = e.message; } export default m", policy });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.match(String(r.result), /at most 4 MiB/);
  const honest = await airlock.run({ code: "export default await tools.length('a'.repeat(3 * 1024 * 1024))", policy });
  assert.equal(honest.result, 3 * 1024 * 1024, JSON.stringify(honest.error));
});
