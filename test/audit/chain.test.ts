import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { GENESIS_HASH, brokenLink, recordHash, sealBatch } from '../../src/audit/chain.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { decision } from './store-conformance.ts';

test('canonical JSON sorts keys at every level, so key order never changes a hash', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
});

test('canonical JSON refuses what JSON cannot carry', () => {
  for (const bad of [{ n: 1n }, { f: () => 1 }, { s: Symbol('x') }]) {
    assert.throws(() => canonicalJson(bad), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST');
  }
});

test('the record hash is sha256 of JSON [seq, prevHash, at, eventJson], pinned so stored chains stay valid', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const json = '{"a":1}';
  const expected = createHash('sha256').update(`[1,"${GENESIS_HASH}","${at}","{\\"a\\":1}"]`).digest('hex');
  assert.equal(recordHash(1, GENESIS_HASH, at, json), expected);
  assert.equal(expected, 'fde8fab2d4699578ef67e7c0aba11a5af0fa2d514ea35dd9d535e84abc54ecd7');
  // Fields can't bleed into one another: moving a character between at and the event changes the hash.
  assert.notEqual(recordHash(1, GENESIS_HASH, '2026', '-01'), recordHash(1, GENESIS_HASH, '2026-', '01'));
});

test('sealBatch chains from the head; brokenLink accepts each link and names what is wrong with a bad one', () => {
  const rows = sealBatch({ seq: 0, hash: GENESIS_HASH }, [decision('acme', 'sbx_a', true), decision('acme', 'sbx_a', false)]);
  const [r1, r2] = rows as [(typeof rows)[number], (typeof rows)[number]];
  assert.equal(brokenLink({ seq: 0, hash: GENESIS_HASH }, r1), null);
  assert.equal(brokenLink(r1, r2), null);
  assert.match(brokenLink({ seq: 0, hash: GENESIS_HASH }, r2) ?? '', /record 1 is missing/);
  assert.match(brokenLink(r1, { ...r2, prevHash: GENESIS_HASH }) ?? '', /prevHash/);
  assert.match(brokenLink(r1, { ...r2, event: r2.event.replace('TOOL_NOT_GRANTED', 'GRANTED') }) ?? '', /hash does not match/);
  assert.match(brokenLink(r1, { ...r2, decision: 'allow' }) ?? '', /decision column/);
  assert.match(brokenLink(r1, { ...r2, at: '2020-01-01T00:00:00.000Z' }) ?? '', /hash does not match|at column/);
});

test('a forged row whose hashes were redone still fails the walk when its event is not one airlock writes', () => {
  const head = { seq: 0, hash: GENESIS_HASH };
  const [good] = sealBatch(head, [decision('acme', 'sbx_a', true)]);
  assert.ok(good !== undefined);
  assert.equal(brokenLink(head, good), null, 'control: a sealed row holds');
  const at = good.at;
  const forged = [
    { v: 1, at, kind: 'bogus', tenant: 'acme', sandbox: 'sbx_a' },
    { v: 1, at, kind: 'run.ended', tenant: 'acme', sandbox: 'sbx_a', run: 'run_a', status: 'ok', errorCode: null },
    { v: 1, at, kind: 'decision', tenant: 'Not A Tenant/../', sandbox: 'sbx_a', door: 'tool', subject: 'x', allow: true, reason: 'TOOL_GRANTED' },
  ];
  for (const event of forged) {
    const json = JSON.stringify(event);
    const cols = { tenant: event.tenant, sandbox: event.sandbox, run: event.run ?? null, kind: event.kind, status: event.status ?? null, decision: event.kind === 'decision' ? ('allow' as const) : null };
    const row = { ...good, ...cols, event: json, hash: recordHash(1, GENESIS_HASH, at, json) };
    assert.match(brokenLink(head, row) ?? 'held', /not one airlock writes/, event.kind);
  }
});
