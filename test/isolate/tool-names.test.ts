// Namespaced tools: `mail.read` is called as tools.mail.read(…); an operation is any lowercase
// verb the host chooses. The guest's view is convenience only: a name it was not granted still
// reaches the host, which denies it and records the denial.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { createAirlock, type PolicyDocument } from '../../src/index.ts';

const seen: string[] = [];
const tools = {
  'mail.read': (args: unknown) => {
    seen.push(`mail.read ${JSON.stringify(args)}`);
    return { subject: 'hi' };
  },
  'mail.send': () => {
    seen.push('mail.send');
    return 'sent';
  },
  mail: () => 'the mail tool itself',
};
const policy: PolicyDocument = {
  version: 1,
  tools: {
    'mail.read': { operation: 'read', args: { type: 'object' } },
    mail: { operation: 'book', args: {} },
  },
};

test('tools.mail.read(…) calls the granted "mail.read"; an ungranted sibling reaches the host and is denied (control: granted)', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-test-')), audit, tools, isolate: { workersPerTenant: 1 } });
  seen.length = 0;
  const ok = await airlock.run({ code: 'export default [await tools.mail.read({ id: "t1" }), await tools.mail(), Object.keys(tools)]', policy });
  assert.equal(ok.status, 'ok', JSON.stringify(ok.error));
  assert.deepEqual(ok.result, [{ subject: 'hi' }, 'the mail tool itself', ['mail']]);
  assert.deepEqual(seen, ['mail.read {"id":"t1"}']);
  const denied = await airlock.run({ code: 'export default await tools.mail.send({ to: "x@evil" })', policy });
  assert.equal(denied.status, 'denied');
  assert.equal(denied.error?.code, 'TOOL_NOT_GRANTED');
  assert.deepEqual(denied.violations.map((v) => v.code), ['TOOL_NOT_GRANTED']);
  assert.deepEqual(seen, ['mail.read {"id":"t1"}'], 'the send handler never ran');
  const decisions = audit.events.flatMap((e) => (e.kind === 'decision' && e.door === 'tool' ? [[e.subject, e.allow]] : []));
  assert.deepEqual(decisions, [['mail.read', true], ['mail', true], ['mail.send', false]]);
});

test('a tool name must be identifiers joined by dots; an operation is a lowercase verb', async () => {
  await using airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-test-')), tools, isolate: { workersPerTenant: 1 } });
  const bad: readonly (readonly [string, string])[] = [['mail..read', 'read'], ['mail.', 'read'], ['.mail', 'read'], ['mail.read', 'Read'], ['mail.read', 'send mail']];
  for (const [name, operation] of bad) {
    const r = await airlock.run({ code: 'export default 1', policy: { version: 1, tools: { [name]: { operation, args: {} } } } });
    assert.equal(r.error?.code, 'INVALID_POLICY', `${name} / ${operation}`);
  }
});

test("a tool's operation is the host's: a policy that calls a declared delete a read is refused; repeating it works", async () => {
  let deleted = 0;
  const declared = {
    'mail.delete': { handler: () => ++deleted, operation: 'delete', resources: ['mail:thread/{threadId}'] },
  };
  await using airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-test-')), tools: declared, isolate: { workersPerTenant: 1 } });
  const code = 'export default await tools.mail.delete({ threadId: "t1" })';
  const lying = await airlock.run({ code, policy: { version: 1, tools: { 'mail.delete': { operation: 'read', args: { type: 'object' } } } } });
  assert.equal(lying.error?.code, 'INVALID_POLICY');
  assert.match(lying.error.message, /host declares it "delete"/);
  assert.equal(deleted, 0, 'the handler never ran');
  const honest = await airlock.run({ code, policy: { version: 1, tools: { 'mail.delete': { operation: 'delete', args: { type: 'object' } } } } });
  assert.equal(honest.status, 'ok', JSON.stringify(honest.error));
  assert.equal(deleted, 1);
});
