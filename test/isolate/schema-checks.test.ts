// Schemas from a policy or a request are checked against data the guest chose, on the host. Each
// hostile shape below once crashed the host, stalled it for seconds or swelled the audit log; each
// sits beside a control the same schema allows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { MemoryAuditSink } from '../../src/index.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { testAirlock } from '../support/airlock.ts';

const tree = { anyOf: [{ type: 'number' }, { type: 'array', items: { $ref: '#' } }] };
const policyWith = (args: Record<string, unknown>, wallMs = 5000) => ({ version: 1 as const, tools: { take: { operation: 'compute' as const, args } }, limits: { wallMs, cpuMs: wallMs } });
const tools = { take: () => 'taken' };
/** Guest code that calls take with `argsJs`, and answers what came back (or the error code). */
const call = (argsJs: string) => `export default async () => { try { return await tools.take(${argsJs}); } catch (e) { return e.code; } };`;

test('arguments nested past the stack against a recursive schema are refused, not a host crash', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit, tools });
  const deep = await airlock.run({ code: call('JSON.parse("[".repeat(3900) + "]".repeat(3900))'), policy: policyWith(tree) });
  assert.equal(deep.status, 'ok', JSON.stringify(deep.error));
  assert.equal(deep.result, 'TOOL_ARGS_INVALID');
  assert.match(deep.violations[0]?.detail ?? '', /nested too deeply/);
  assert.ok(audit.events.some((e) => e.kind === 'decision' && e.run === deep.id && !e.allow));
  const control = await airlock.run({ code: call('[[1, [2]], 3]'), policy: policyWith(tree) });
  assert.equal(control.result, 'taken');
});

test('a strict schema says one short reason for a call with 300,000 extra keys; a matching call passes', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit, tools });
  const strict = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'], additionalProperties: false };
  const r = await airlock.run({ code: call('Object.fromEntries(Array.from({ length: 300000 }, (_, i) => ["k" + i, 1]))'), policy: policyWith(strict, 20_000) });
  assert.equal(r.result, 'TOOL_ARGS_INVALID', JSON.stringify(r.error));
  assert.ok((r.violations[0]?.detail.length ?? 0) < 1000, `reason of ${r.violations[0]?.detail.length} chars`);
  const recorded = JSON.stringify(audit.events.filter((e) => e.run === r.id)).length;
  assert.ok(recorded < 10_000, `the run's audit events hold ${recorded} chars`);
  const control = await airlock.run({ code: call('{ id: 7 }'), policy: policyWith(strict) });
  assert.equal(control.result, 'taken');
});

test('a backtracking pattern meets a guest string in linear time; patterns that need backtracking are refused', async () => {
  await using airlock = testAirlock({ tools });
  const pattern = { type: 'string', pattern: '^(a+)+$' };
  // Backtracking, 'a' × 27 + 'b' held the host's thread for seconds, past the run's own wall limit.
  const r = await airlock.run({ code: call('"a".repeat(27) + "b"'), policy: policyWith(pattern, 2000) });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.result, 'TOOL_ARGS_INVALID');
  const control = await airlock.run({ code: call('"a".repeat(27)'), policy: policyWith(pattern, 2000) });
  assert.equal(control.result, 'taken');
  const result = await airlock.run({ code: 'export default "a".repeat(27) + "b"', resultSchema: pattern, policy: { version: 1, limits: { wallMs: 2000, cpuMs: 2000 } } });
  assert.equal(result.error?.code, 'RESULT_SCHEMA_MISMATCH', JSON.stringify(result.error));
  assert.throws(() => compilePolicy(policyWith({ type: 'string', pattern: '^(a)\\1$' })), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_POLICY' && /linear time/.test(e.message));
});

test('a policy or result schema nested past the stack is the caller\'s coded error, not INTERNAL; a nested one that fits runs', async () => {
  await using airlock = testAirlock({ tools });
  const nest = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
  const policy = await airlock.run({ code: 'export default 1', policy: { version: 1, env: nest(20_000) } as never });
  assert.deepEqual([policy.status, policy.error?.code], ['invalid', 'INVALID_POLICY']);
  const schema = await airlock.run({ code: 'export default 1', resultSchema: nest(20_000) as Record<string, unknown> });
  assert.deepEqual([schema.status, schema.error?.code], ['invalid', 'INVALID_REQUEST']);
  const fits = await airlock.run({ code: call('{ a: { a: { a: 1 } } }'), policy: policyWith({ type: 'object', properties: { a: { type: 'object', properties: { a: { type: 'object' } } } } }) });
  assert.equal(fits.result, 'taken');
});

test('a schema of 4,000 properties is refused before ajv compiles it (20,000 held the host 3.8 s); a schema of a few is compiled', async () => {
  await using airlock = testAirlock({ tools });
  const huge = { type: 'object', properties: Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`p${i}`, { type: 'string' }])) };
  const result = await airlock.run({ code: 'export default {}', resultSchema: huge });
  // Refused for its size, before compiling (ajv itself gives up on it only after compiling for a while).
  assert.deepEqual([result.status, result.error?.code], ['invalid', 'INVALID_REQUEST']);
  assert.match(result.error?.message ?? '', /over 64 KiB/);
  assert.throws(() => compilePolicy(policyWith(huge)), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_POLICY' && /tools\.take\.args.*over 64 KiB/.test(e.message));
  const small = { type: 'object', properties: { a: { type: 'string' } } };
  const control = await airlock.run({ code: 'export default { a: "x" }', resultSchema: small });
  assert.equal(control.status, 'ok', JSON.stringify(control.error));
});
