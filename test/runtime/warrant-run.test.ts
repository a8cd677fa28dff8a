// Warrants at every tool call and fetch, through the public API: "this task may only read mail,
// never write, delete or move it", each denial beside its allowed control, and the forbidden
// effect checked on the world (the handler never ran, the server saw no request).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { attenuateWarrant, mintWarrant } from '../../src/authority/mint.ts';
import type { GrantDoc } from '../../src/authority/payload.ts';
import { verifyWarrant } from '../../src/authority/verify.ts';
import { createAirlock, type PolicyDocument } from '../../src/index.ts';
import { recordingServer } from '../support/recording-server.ts';

const HOUR = 3_600_000;
const root = generateSigningKey();
const trustedKeys = new Map([[root.kid, root.publicKey]]);

function mailWorld(): { effects: string[]; tools: Record<string, unknown> } {
  const effects: string[] = [];
  const tools = {
    'mail.read': { handler: (a: unknown) => (effects.push(`read ${JSON.stringify(a)}`), { subject: 'hi' }), operation: 'read', resources: ['mail:thread/{threadId}'] },
    'mail.delete': { handler: (a: unknown) => (effects.push(`delete ${JSON.stringify(a)}`), true), operation: 'delete', resources: ['mail:thread/{threadId}'] },
    'mail.move': { handler: (a: unknown) => (effects.push(`move ${JSON.stringify(a)}`), true), operation: 'write', resources: ['mail:thread/{threadId}', 'mail:folder/{to}'] },
    notes: (a: unknown) => (effects.push(`notes ${JSON.stringify(a)}`), true),
  };
  return { effects, tools };
}

const ARGS = { type: 'object', properties: { threadId: { type: 'string' }, to: { type: 'string' } }, additionalProperties: false };
const policy: PolicyDocument = {
  version: 1,
  tools: { 'mail.read': { operation: 'read', args: ARGS }, 'mail.delete': { operation: 'delete', args: ARGS }, 'mail.move': { operation: 'write', args: ARGS }, notes: { operation: 'write', args: {} } },
};
const READ_ONLY: GrantDoc[] = [{ tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*'] }];
const mint = (grants: GrantDoc[], tenant = 'acme'): string => mintWarrant({ signer: root, tenant, now: Date.now(), expiresAt: Date.now() + HOUR, grants });
const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-test-'));

test('read mail, never write, delete or move: the warrant denies each beside its allowed read, and no handler but read ran', async () => {
  const { effects, tools } = mailWorld();
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit, tools: tools as never, warrants: { trustedKeys }, isolate: { workersPerTenant: 1 } });
  const warrant = mint(READ_ONLY);
  // The guest answers with the call's result, or the code of the error it got.
  const code = (call: string): string => `let r; try { r = await ${call}; } catch (e) { r = e.code; } export default r;`;
  const read = await airlock.run({ tenant: 'acme', code: code('tools.mail.read({ threadId: "t1" })'), policy, warrant });
  assert.deepEqual([read.status, read.result], ['ok', { subject: 'hi' }], JSON.stringify(read.error));
  for (const call of ['tools.mail.delete({ threadId: "t1" })', 'tools.mail.move({ threadId: "t1", to: "trash" })', 'tools.notes({})']) {
    const denied = await airlock.run({ tenant: 'acme', code: code(call), policy, warrant });
    assert.equal(denied.result, 'WARRANT_DENIED', `${call}: ${JSON.stringify(denied)}`);
    assert.deepEqual(denied.violations.map((v) => v.code), ['WARRANT_DENIED']);
  }
  assert.deepEqual(effects, ['read {"threadId":"t1"}'], 'only the read reached a handler');
  // The audit names the warrant on run.started and the denials' reason.
  const warrants = audit.events.flatMap((e) => (e.kind === 'run.started' ? [e.warrant?.id ?? 'none'] : []));
  assert.ok(warrants.length === 4 && warrants.every((id) => /^wr_/.test(id)), warrants.join(', '));
  const refusals = audit.events.flatMap((e) => (e.kind === 'decision' && !e.allow ? [[e.subject, e.reason]] : []));
  assert.deepEqual(refusals, [['mail.delete', 'WARRANT_DENIED'], ['mail.move', 'WARRANT_DENIED'], ['notes', 'WARRANT_DENIED']]);
  // Control: without a warrant the policy alone decides, and the same delete happens.
  const unwarranted = await airlock.run({ tenant: 'acme', code: code('tools.mail.delete({ threadId: "t1" })'), policy });
  assert.equal(unwarranted.result, true);
  assert.equal(effects.at(-1), 'delete {"threadId":"t1"}');
});

test('a sub-agent gets only what its chain grants: a narrower child is narrower, and a wider one is refused or gets nothing more', async () => {
  const { effects, tools } = mailWorld();
  await using airlock = createAirlock({ home: home(), tools: tools as never, warrants: { trustedKeys }, isolate: { workersPerTenant: 1 } });
  const parent = mint([{ tool: 'mail.*', ops: ['read', 'delete'], resources: ['mail:thread/*'] }]);
  const verified = verifyWarrant(parent, { trustedKeys, now: Date.now(), revoked: new Set(), tenant: 'acme' });
  const onlyT1 = attenuateWarrant(verified, { now: Date.now(), expiresAt: verified.expiresAt - 1000, grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/t1'] }] });
  const run = (code: string, warrant: string) => airlock.run({ tenant: 'acme', code: `let r; try { r = await ${code}; } catch (e) { r = e.code; } export default r;`, policy, warrant });
  assert.deepEqual((await run('tools.mail.read({ threadId: "t1" })', onlyT1)).result, { subject: 'hi' }, 'control');
  assert.equal((await run('tools.mail.read({ threadId: "t2" })', onlyT1)).result, 'WARRANT_DENIED', 'another thread');
  assert.equal((await run('tools.mail.delete({ threadId: "t1" })', onlyT1)).result, 'WARRANT_DENIED', 'the parent may delete; the child may not');
  assert.equal((await run('tools.mail.delete({ threadId: "t1" })', parent)).result, true, 'control: the parent may');
  // Asking for more than the parent: attenuation refuses to write it.
  assert.throws(() => attenuateWarrant(verified, { now: Date.now(), expiresAt: verified.expiresAt - 1000, grants: [{ tool: 'mail.*', ops: ['read', 'delete', 'write'], resources: ['**'] }] }), (e: unknown) => (e as { code?: string }).code === 'WARRANT_WIDENING');
  assert.deepEqual(effects, ['read {"threadId":"t1"}', 'delete {"threadId":"t1"}']);
});

test('a warrant that does not verify refuses the run before anything runs, coded and recorded; another tenant\'s warrant too', async () => {
  const { effects, tools } = mailWorld();
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit, tools: tools as never, warrants: { trustedKeys }, isolate: { workersPerTenant: 1 } });
  const good = mint(READ_ONLY);
  const code = 'export default await tools.mail.read({ threadId: "t1" })';
  const last = good.at(-2) === 'A' ? 'B' : 'A';
  const tampered = `${good.slice(0, -2)}${last}${good.at(-1) ?? ''}`;
  const bad = await airlock.run({ tenant: 'acme', code, policy, warrant: tampered });
  assert.equal(bad.error?.code, 'WARRANT_INVALID', JSON.stringify(bad.error));
  const foreign = await airlock.run({ tenant: 'other', code, policy, warrant: good });
  assert.match(foreign.error?.code ?? '', /^WARRANT_/);
  assert.deepEqual(effects, [], 'no handler ran');
  assert.equal(audit.events.filter((e) => e.kind === 'run.started').length, 0, 'no run started');
  assert.equal(audit.events.filter((e) => e.kind === 'decision' && e.subject === 'warrant' && !e.allow).length, 2, 'both refusals are recorded');
  const untrusting = createAirlock({ home: home(), tools: tools as never, isolate: { workersPerTenant: 1 } });
  try {
    assert.equal((await untrusting.run({ tenant: 'acme', code, policy, warrant: good })).error?.code, 'WARRANT_KEY_UNTRUSTED', 'a host that trusts no key refuses every warrant');
  } finally {
    await untrusting.close();
  }
  assert.deepEqual((await airlock.run({ tenant: 'acme', code, policy, warrant: good })).result, { subject: 'hi' }, 'control');
});

test('fetch under a warrant: only the routes it grants are reached (the server sees only those), beside the policy-only control', async () => {
  await using up = await recordingServer();
  const { seen, port } = up;
  await using airlock = createAirlock({ home: home(), warrants: { trustedKeys }, isolate: { workersPerTenant: 1 } });
  const net: PolicyDocument = { version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port }] } };
  const warrant = mint([{ tool: 'net.fetch', ops: ['get'], resources: [`net:http://127.0.0.1:${port}/public/**`] }]);
  const fetchCode = (path: string, method = 'GET'): string => `let r; try { r = (await fetch('http://127.0.0.1:${port}${path}', { method: '${method}' })).status; } catch (e) { r = e.code ?? String(e); } export default r;`;
  assert.equal((await airlock.run({ tenant: 'acme', code: fetchCode('/public/a'), policy: net, warrant })).result, 200, 'control');
  const secret = await airlock.run({ tenant: 'acme', code: fetchCode('/secret'), policy: net, warrant });
  assert.equal(secret.result, 'WARRANT_DENIED', JSON.stringify(secret));
  assert.equal((await airlock.run({ tenant: 'acme', code: fetchCode('/public/a', 'POST'), policy: net, warrant })).result, 'WARRANT_DENIED', 'another method');
  assert.deepEqual(seen, ['GET /public/a'], 'the server saw only the granted request');
  assert.equal((await airlock.run({ tenant: 'acme', code: fetchCode('/secret'), policy: net })).result, 200, 'control: the policy alone grants the route');
});

test('the container tier under a warrant: curl through the proxy reaches only what the warrant grants (the server saw only that), beside the policy-only control', async () => {
  await using up = await recordingServer();
  const { seen, port } = up;
  await using airlock = createAirlock({ home: home(), warrants: { trustedKeys } });
  const net: PolicyDocument = { version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port }] } };
  const warrant = mint([{ tool: 'net.fetch', ops: ['get'], resources: [`net:http://127.0.0.1:${port}/public/**`] }]);
  const curl = (path: string): string => `curl -s -m 5 -o /dev/null -w "%{http_code} " http://127.0.0.1:${port}${path}`;
  const code = [curl('/public/a'), curl('/secret')].join('\n');
  const r = await airlock.run({ tenant: 'acme', language: 'sh', code, policy: net, warrant });
  assert.equal(r.tier, 'container');
  assert.equal(r.stdout.trim(), '200 403', JSON.stringify(r));
  assert.deepEqual(r.violations.map((v) => v.code), ['WARRANT_DENIED']);
  assert.deepEqual(seen, ['GET /public/a'], 'the server saw only the granted request');
  const control = await airlock.run({ tenant: 'acme', language: 'sh', code: curl('/secret'), policy: net });
  assert.equal(control.stdout.trim(), '200', 'control: the policy alone grants it');
});
