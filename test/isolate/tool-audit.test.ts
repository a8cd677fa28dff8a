// Every knock on the tool door is an audit event at the moment of decision: a granted call as
// allow, a call to a tool the policy never named as deny — it reaches the host, so it is recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/index.ts';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

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
