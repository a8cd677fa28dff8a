// limits.denials on the isolate tier: denied tool calls and fetches, whatever the reason, spend
// one budget per run. A run that floods doors it was not granted is stopped LIMIT_DENIALS with a
// bounded record (guest-chosen names and URLs cut, marked and hashed); a run within it finishes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/index.ts';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

const policy = {
  ...TEST_POLICY,
  limits: { ...TEST_POLICY.limits, wallMs: 20_000, cpuMs: 10_000, toolCalls: 100_000, denials: 10 },
  network: { routes: [{ host: 'api.airlock', scheme: 'http' as const, methods: ['GET' as const], paths: ['/ok'], forward: { to: 'http://127.0.0.1:9' } }] },
};

test('a run that floods denied tool calls and fetches is stopped LIMIT_DENIALS, leaving a bounded record', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const floods = {
    tool: 'tools.nope({})',
    fetch: `fetch("http://example.com/${'p'.repeat(7_000)}")`,
    mixed: "(i % 2 ? tools.nope({}) : fetch('http://api.airlock/denied'))",
  };
  for (const [kind, call] of Object.entries(floods)) {
    const r = await airlock.run({ code: `for (let i = 0; i < 1e6; i++) { try { await ${call}; } catch {} } export default 'finished'`, policy });
    assert.equal(r.error?.code, 'LIMIT_DENIALS', `${kind}: ${JSON.stringify(r.error)}`);
    assert.equal(r.status, 'denied');
    const recorded = audit.events.filter((e) => e.kind === 'decision' && e.run === r.id);
    assert.ok(recorded.length <= 12, `${kind}: ${recorded.length} decisions recorded`);
    assert.ok(r.violations.length <= 11, `${kind}: ${r.violations.length} violations`);
    assert.ok(JSON.stringify(recorded).length < 32 * 1024, `${kind}: ${JSON.stringify(recorded).length} bytes of record`);
    // The guest chose a 7 KB path: the record keeps its start, marked, and the hash of the whole.
    if (kind === 'fetch') assert.match(recorded[0]?.kind === 'decision' ? recorded[0].subject : '', /^GET http:\/\/example\.com:80\/p+…\[truncated: 7001 chars, sha256 [0-9a-f]{64}\]$/);
  }
});

test('control: a run denied fewer times than limits.denials catches each denial and finishes, each one recorded', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const r = await airlock.run({
    code: "let n = 0; for (let i = 0; i < 9; i++) { try { await (i % 2 ? tools.nope({}) : fetch('http://api.airlock/denied')); } catch (e) { n++; } } export default n + await tools.add({ a: 1, b: 2 })",
    policy,
  });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.result, 12);
  assert.equal(r.violations.length, 9);
  assert.equal(audit.events.filter((e) => e.kind === 'decision' && e.run === r.id && !e.allow).length, 9);
});
