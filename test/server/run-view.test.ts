// A run's detail is the audit log's records reshaped, never re-judged: each decision's code,
// reason and label are the ones recorded (the label rising call by call, a label denial's content),
// the warrant and the run's final label are run.started's and run.ended's. Runs here are real
// (labelled host tools, a warrant), written to a real SQLite log, and read back by the server's reader.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DurableAuditSink } from '../../src/audit/durable-sink.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { tenantId } from '../../src/audit/store.ts';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { mintWarrant } from '../../src/authority/mint.ts';
import { createAirlock, type PolicyDocument } from '../../src/index.ts';
import { readRun } from '../../src/server/run-history.ts';

const ME = 'me@corp.example';
const ANN = 'ann@corp.example';
const EVE = 'eve@evil.example';

const tools = {
  'mail.read': {
    handler: () => ({ id: 't1', messages: [{ from: ANN, to: [ME], body: 'revenue is 4.2M' }] }),
    operation: 'read',
    resources: ['mail:thread/{threadId}'],
    labels: { reveals: [{ kind: 'mail:thread', id: 'id', readers: ['messages[].from', 'messages[].to[]'], authors: ['messages[].from'] }] },
  },
  'mail.send': {
    handler: () => ({ id: 'm1' }),
    operation: 'send',
    labels: { reveals: [], sink: { audience: [{ from: 'argument', path: 'to[]' }], control: ['to[]'] } },
  },
};
const policy: PolicyDocument = { version: 1, tools: { 'mail.read': { operation: 'read', args: { type: 'object' } }, 'mail.send': { operation: 'send', args: { type: 'object' } } } };
const send = (to: string): string =>
  `let r; try { const t = await tools.mail.read({ threadId: 't1' }); await tools.mail.send({ to: [${JSON.stringify(to)}], body: t.messages[0].body }); r = 'sent'; } catch (e) { r = e.code; } export default r;`;

test("a run's decisions show the code, reason and label the log recorded, the label rising call by call; a label denial shows its recorded content", async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-view-'));
  const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
  const root = generateSigningKey();
  await using airlock = createAirlock({
    home,
    audit: new DurableAuditSink(store, { onClose: 'keep-store' }),
    tools,
    warrants: { trustedKeys: new Map([[root.kid, root.publicKey]]) },
    labels: { principals: () => ({ user: [ME], trusted: [ANN] }) },
    isolate: { workersPerTenant: 1 },
  });
  const expiresAt = Date.now() + 3_600_000;
  const warrant = mintWarrant({ signer: root, tenant: 'acme', now: Date.now(), expiresAt, grants: [{ tool: 'mail.*', ops: ['read', 'send'] }] });
  const tenant = tenantId('acme');

  const allowed = await airlock.run({ tenant: 'acme', code: send(ANN), policy, warrant });
  assert.equal(allowed.result, 'sent', JSON.stringify(allowed.error));
  const detail = await readRun(store, tenant, allowed.id);
  const recorded = (await store.query({ tenant, run: allowed.id, kind: 'decision' })).map((r) => r.event);
  assert.deepEqual(
    detail.decisions.map((d) => [d.door, d.target, d.verdict, d.code, d.label]),
    [
      ['tool', 'mail.read', 'allow', 'TOOL_GRANTED', []],
      ['tool', 'mail.send', 'allow', 'TOOL_GRANTED', ['mail:thread/t1 trusted']],
    ],
  );
  assert.deepEqual(
    detail.decisions.map((d) => [d.code, d.label]),
    recorded.map((e) => (e.kind === 'decision' ? [e.reason, e.detail?.['label']] : null)),
    'each is what the log holds',
  );
  assert.deepEqual(detail.label, ['mail:thread/t1 trusted']);
  const w = detail.warrant;
  assert.ok(w);
  assert.deepEqual([w.depth, w.expires], [0, new Date(expiresAt).toISOString()]);
  assert.match(w.holder ?? '', /^k_/);
  assert.deepEqual(detail.policy?.tools, [
    { name: 'mail.read', operation: 'read' },
    { name: 'mail.send', operation: 'send' },
  ]);

  const leak = await airlock.run({ tenant: 'acme', code: send(EVE), policy, warrant });
  assert.equal(leak.result, 'LABEL_CONFIDENTIALITY');
  const denied = await readRun(store, tenant, leak.id);
  const refusal = denied.decisions.at(-1);
  const stored = (await store.query({ tenant, run: leak.id, decision: 'deny' })).at(-1)?.event;
  assert.ok(stored?.kind === 'decision' && refusal !== undefined);
  assert.deepEqual([refusal.verdict, refusal.code, refusal.reason], ['deny', stored.reason, stored.detail?.['message']]);
  assert.equal(refusal.code, 'LABEL_CONFIDENTIALITY');
  assert.match(refusal.reason ?? '', /mail:thread\/t1/);
  assert.deepEqual(refusal.label, ['mail:thread/t1 trusted'], "the content label the refusal recorded");
  assert.deepEqual([denied.denials, denied.deniedCodes, denied.tools], [1, ['LABEL_CONFIDENTIALITY'], ['mail.read', 'mail.send']]);
  await airlock.close();
  await store.close();
});
