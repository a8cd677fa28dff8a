// A sandbox made with a warrant acts under it for its whole life: each of its runs' tool calls,
// each of its execs' egress requests. The forbidden effect is checked on the world (the handler
// never ran, the server saw no request), each beside the allowed control; a refused warrant makes
// no sandbox at all.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { mintWarrant } from '../../src/authority/mint.ts';
import type { GrantDoc } from '../../src/authority/payload.ts';
import { createAirlock, type PolicyDocument } from '../../src/index.ts';
import { recordingServer } from '../support/recording-server.ts';

const HOUR = 3_600_000;
const root = generateSigningKey();
const trustedKeys = new Map([[root.kid, root.publicKey]]);
const mint = (grants: GrantDoc[], expiresAt = Date.now() + HOUR): string => mintWarrant({ signer: root, tenant: 'acme', now: Date.now(), expiresAt, grants });
const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-test-'));

test("an isolate sandbox's runs act under its warrant: a tool it does not grant never reaches its handler, the granted one does", async () => {
  const effects: string[] = [];
  const tools = {
    'mail.read': { handler: () => (effects.push('read'), 'hi'), operation: 'read', resources: ['mail:inbox'] },
    'mail.delete': { handler: () => (effects.push('delete'), true), operation: 'delete', resources: ['mail:inbox'] },
  };
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit, tools, warrants: { trustedKeys }, isolate: { workersPerTenant: 1 } });
  const policy: PolicyDocument = { version: 1, tools: { 'mail.read': { operation: 'read', args: {} }, 'mail.delete': { operation: 'delete', args: {} } } };
  await using sb = await airlock.sandbox({ tenant: 'acme', policy, warrant: mint([{ tool: 'mail.read', ops: ['read'], resources: ['mail:inbox'] }]) });
  const call = (name: string): string => `let r; try { r = await tools.${name}({}); } catch (e) { r = e.code; } export default r;`;
  assert.equal((await sb.run(call('mail.read'))).result, 'hi', 'control: the warrant grants the read');
  const denied = await sb.run(call('mail.delete'));
  assert.equal(denied.result, 'WARRANT_DENIED', JSON.stringify(denied));
  assert.deepEqual(effects, ['read'], 'the delete never reached its handler');
  const started = audit.events.flatMap((e) => (e.kind === 'run.started' ? [e.warrant?.id ?? 'none'] : []));
  assert.ok(started.length === 2 && started.every((id) => id.startsWith('wr_')), `each run records the warrant: ${started.join(', ')}`);
  // Control: a sandbox without a warrant is held by its policy alone, and the same delete happens.
  await using plain = await airlock.sandbox({ tenant: 'acme', policy });
  assert.equal((await plain.run(call('mail.delete'))).result, true);
  assert.deepEqual(effects, ['read', 'delete']);
});

test('a refused warrant makes no sandbox: the refusal is coded and recorded, and no sandbox.created follows', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit, warrants: { trustedKeys }, isolate: { workersPerTenant: 1 } });
  const other = generateSigningKey();
  const foreign = mintWarrant({ signer: other, tenant: 'acme', now: Date.now(), expiresAt: Date.now() + HOUR, grants: [{ tool: 'x', ops: ['read'], resources: ['*'] }] });
  const untrusted = (e: Error & { code?: string }): boolean => e.code === 'WARRANT_KEY_UNTRUSTED';
  await assert.rejects(airlock.sandbox({ tenant: 'acme', warrant: foreign }), untrusted);
  await assert.rejects(airlock.sandbox({ tenant: 'acme', tier: 'container', warrant: foreign }), untrusted);
  await assert.rejects(airlock.sandbox({ tenant: 'beta', warrant: mint([]) }), (e: Error & { code?: string }) => /^WARRANT_/.test(e.code ?? ''), 'a warrant for another tenant');
  assert.equal(audit.events.filter((e) => e.kind === 'sandbox.created').length, 0, 'nothing was made');
  assert.equal(audit.events.filter((e) => e.kind === 'decision' && !e.allow && e.subject === 'warrant').length, 3, 'each refusal recorded');
  // Control: a good warrant makes one.
  await using sb = await airlock.sandbox({ tenant: 'acme', warrant: mint([]) });
  assert.equal(sb.open, true);
});

test("a container sandbox's execs reach only what its warrant grants: the server saw only the granted request, beside the warrantless control", async () => {
  await using up = await recordingServer();
  const { seen, port } = up;
  await using airlock = createAirlock({ home: home(), warrants: { trustedKeys } });
  const net: PolicyDocument = { version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port }] } };
  const warrant = mint([{ tool: 'net.fetch', ops: ['get'], resources: [`net:http://127.0.0.1:${port}/public/**`] }]);
  const curl = (path: string): string[] => ['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}${path}`];
  await using box = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy: net, warrant });
  assert.equal((await box.exec(curl('/public/a'))).stdout, '200', 'control: granted');
  assert.equal((await box.exec(curl('/secret'))).stdout, '403', 'refused by the warrant');
  assert.deepEqual(seen, ['GET /public/a'], 'the server saw only the granted request');
  await using plain = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy: net });
  assert.equal((await plain.exec(curl('/secret'))).stdout, '200', 'control: the policy alone grants it');
  assert.deepEqual(seen, ['GET /public/a', 'GET /secret']);
});
