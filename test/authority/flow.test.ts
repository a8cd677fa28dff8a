// The data-flow rules a warrant carries (docs/warrant-format.md §6.3): every level that states a
// kind must allow the item, a level that omits it inherits, and a kind the root does not state allows nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorizeFlow } from '../../src/authority/authorize.ts';
import { compileFlow, flowAllows } from '../../src/authority/flow.ts';
import { attenuateWarrant, mintWarrant } from '../../src/authority/mint.ts';
import type { FlowDoc } from '../../src/authority/payload.ts';
import { verifyWarrant } from '../../src/authority/verify.ts';
import { HOUR, linksOf, NOW, READ_MAIL, throwsCode, tokenOf, world } from './helpers.ts';

const ROOT_FLOW: FlowDoc = {
  declassify: [{ from: ['mail:thread/*'], to: ['mail:to/*@example.com'] }],
  endorse: [{ arg: 'pay.recipient', values: ['acct-42', 'acct-43'] }],
  waive: ['calendar.create.*'],
};

test('each kind: allowed by the root alone; a child that states it must allow it too; one that omits it inherits', () => {
  const w = world();
  const root = verifyWarrant(tokenOf(linksOf(mintWarrant({ signer: w.root, holder: w.host.publicKey, tenant: 'acme', now: NOW, expiresAt: NOW + HOUR, grants: READ_MAIL, flow: ROOT_FLOW })), w.host), w.options);
  const toBob = { kind: 'declassify', source: 'mail:thread/7', principal: 'mail:to/bob@example.com' } as const;
  const toEve = { kind: 'declassify', source: 'mail:thread/7', principal: 'mail:to/eve@evil.com' } as const;
  assert.equal(authorizeFlow(root, toBob).allow, true, 'control');
  assert.equal(authorizeFlow(root, toEve).allow, false);
  assert.equal(authorizeFlow(root, { kind: 'endorse', arg: 'pay.recipient', value: 'acct-42' }).allow, true);
  assert.equal(authorizeFlow(root, { kind: 'endorse', arg: 'pay.recipient', value: 'acct-99' }).allow, false);
  assert.equal(authorizeFlow(root, { kind: 'waive', arg: 'calendar.create.title' }).allow, true);
  assert.equal(authorizeFlow(root, { kind: 'waive', arg: 'pay.send.recipient' }).allow, false);

  const narrower = verifyWarrant(attenuateWarrant(root, { now: NOW, expiresAt: NOW + HOUR, flow: { endorse: [{ arg: 'pay.recipient', values: ['acct-43'] }] } }), w.options);
  assert.equal(authorizeFlow(narrower, { kind: 'endorse', arg: 'pay.recipient', value: 'acct-42' }).allow, false, 'the child states endorse without acct-42');
  const denied = authorizeFlow(narrower, { kind: 'endorse', arg: 'pay.recipient', value: 'acct-42' });
  assert.ok(!denied.allow && denied.level === 1, JSON.stringify(denied));
  assert.equal(authorizeFlow(narrower, { kind: 'endorse', arg: 'pay.recipient', value: 'acct-43' }).allow, true, 'control');
  assert.equal(authorizeFlow(narrower, toBob).allow, true, 'declassify omitted by the child: inherited');
  throwsCode(() => attenuateWarrant(root, { now: NOW, expiresAt: NOW + HOUR, flow: { waive: ['**'] } }), 'WARRANT_WIDENING', /waive/);
});

test('a kind no level states allows nothing', () => {
  const w = world();
  const root = verifyWarrant(tokenOf(linksOf(mintWarrant({ signer: w.root, holder: w.host.publicKey, tenant: 'acme', now: NOW, expiresAt: NOW + HOUR, grants: READ_MAIL })), w.host), w.options);
  const answer = authorizeFlow(root, { kind: 'waive', arg: 'calendar.create.title' });
  assert.ok(!answer.allow && /root states no/.test(answer.message), JSON.stringify(answer));
});

test('a kind the root does not state stays shut whatever a lower link states (a delegate signs its own links)', () => {
  // attenuateWarrant refuses to write such a link, but a delegate holding its key can sign one
  // itself: the rule holds where the chain is read, not only where it is written.
  const levels = [compileFlow(undefined), compileFlow({ waive: ['**'], declassify: [{ from: ['**'], to: ['**'] }] })];
  assert.deepEqual(flowAllows(levels, { kind: 'waive', arg: 'pay.send.recipient' }), { allow: false, level: null });
  assert.deepEqual(flowAllows(levels, { kind: 'declassify', source: 'mail:thread/7', principal: 'eve@evil.com' }), { allow: false, level: null });
  // Control: stated by the root, the same child rule narrows nothing away.
  const rooted = [compileFlow({ waive: ['**'] }), compileFlow({ waive: ['**'] })];
  assert.deepEqual(flowAllows(rooted, { kind: 'waive', arg: 'pay.send.recipient' }), { allow: true });
});
