// One behaviour suite, run on every tier through the public createAirlock().run(): the result
// contract, the audit contract, each limit's status, denials in violations, bad input
// (cases.ts). A case a tier can't run is skipped with the reason it gives.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { MemoryAuditSink, type Airlock, type AuditEvent, type RunResult, type Tier } from '../../src/index.ts';
import { RUN_STATUSES } from '../../src/core/result.ts';
import { isErrorCode } from '../../src/core/errors.ts';
import { testAirlock } from '../support/airlock.ts';
import { CASES, type CaseContext, type Expected } from './cases.ts';

const TIERS: readonly Tier[] = ['isolate', 'container'];
const RESULT_KEYS = ['id', 'tier', 'status', 'exitCode', 'stdout', 'stderr', 'result', 'error', 'usage', 'violations', 'tierReason'].sort();
const LIFECYCLE = ['sandbox.created', 'run.started', 'run.ended', 'sandbox.destroyed'];
/** The keys of each lifecycle event, the same on every tier. */
const EVENT_KEYS: Readonly<Record<string, readonly string[]>> = {
  'sandbox.created': ['at', 'kind', 'policyHash', 'sandbox', 'tenant', 'tier', 'v'],
  'run.started': ['at', 'code', 'codeHash', 'kind', 'language', 'policy', 'policyHash', 'run', 'sandbox', 'tenant', 'tier', 'tierReason', 'v'],
  // errorMessage is there exactly when errorCode is not null (added below).
  'run.ended': ['at', 'errorCode', 'kind', 'output', 'run', 'sandbox', 'status', 'tenant', 'usage', 'v'],
  'sandbox.destroyed': ['at', 'kind', 'reason', 'sandbox', 'tenant', 'v'],
};

const state: { airlock: Airlock; audit: MemoryAuditSink; ctx: CaseContext & { seen: string[] }; close: () => void } = {} as never;

before(async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.audit = new MemoryAuditSink();
  state.airlock = testAirlock({ audit: state.audit });
  state.ctx = { port: (server.address() as AddressInfo).port, seen };
  state.close = () => server.close();
});

after(async () => {
  await state.airlock.close();
  state.close();
});

function checkResultContract(r: RunResult, tier: Tier): void {
  assert.deepEqual(Object.keys(r).sort(), RESULT_KEYS, 'exactly the contract keys');
  assert.match(r.id, /^run_/);
  assert.equal(r.tier, tier);
  assert.ok((RUN_STATUSES as readonly string[]).includes(r.status));
  assert.ok(r.exitCode === null || Number.isInteger(r.exitCode));
  assert.equal(typeof r.stdout, 'string');
  assert.equal(typeof r.stderr, 'string');
  assert.equal(typeof r.tierReason, 'string');
  assert.ok(r.tierReason.length > 0);
  if (r.error !== null) {
    assert.deepEqual(Object.keys(r.error).sort(), ['code', 'message']);
    assert.ok(isErrorCode(r.error.code));
    assert.ok(r.error.message.length > 0);
  }
  assert.equal(r.status === 'ok', r.error === null, 'an error exactly when the status is not ok');
  assert.deepEqual(Object.keys(r.usage).sort(), ['cpuMs', 'memoryBytes', 'wallMs']);
  for (const n of Object.values(r.usage)) assert.ok(typeof n === 'number' && n >= 0);
  const violations: readonly unknown[] = r.violations;
  assert.ok(Array.isArray(violations));
  for (const v of r.violations) {
    assert.deepEqual(Object.keys(v).sort(), ['code', 'detail', 'door']);
    assert.ok(isErrorCode(v.code));
  }
}

function checkAuditContract(r: RunResult, expect: Expected, code: string): void {
  const events = state.audit.events;
  const ofRun = events.filter((e) => e.run === r.id);
  if (expect.recorded === 'nothing') {
    assert.deepEqual(ofRun, [], 'a request refused before it was a run leaves no run events');
    return;
  }
  const sandbox = ofRun[0]?.sandbox ?? '';
  const lifecycle = events.filter((e) => e.sandbox === sandbox && LIFECYCLE.includes(e.kind));
  assert.deepEqual(lifecycle.map((e) => e.kind), expect.recorded === 'sandbox' ? LIFECYCLE : ['run.started', 'run.ended'], 'each lifecycle event once, in order');
  for (const e of lifecycle) {
    const keys = e.kind === 'run.ended' && e.errorCode !== null ? [...(EVENT_KEYS[e.kind] ?? []), 'errorMessage'].sort() : EVENT_KEYS[e.kind];
    assert.deepEqual(Object.keys(e).sort(), keys, `${e.kind} has the same keys on every tier`);
  }
  const started = lifecycle.find((e) => e.kind === 'run.started') as Extract<AuditEvent, { kind: 'run.started' }>;
  assert.equal(started.code, code, 'run.started holds the code that ran');
  assert.equal(started.codeHash, createHash('sha256').update(code).digest('hex'), 'and its SHA-256');
  assert.equal(started.tier, r.tier);
  assert.equal(started.tierReason, r.tierReason);
  const ended = lifecycle.find((e) => e.kind === 'run.ended') as Extract<AuditEvent, { kind: 'run.ended' }>;
  assert.equal(ended.status, r.status);
  assert.equal(ended.errorCode, r.error?.code ?? null);
}

for (const tier of TIERS) {
  for (const c of CASES) {
    const skip = c.skip?.[tier];
    test(`${tier}: ${c.name}`, skip === undefined ? {} : { skip }, async () => {
      const request = c.request(state.ctx)[tier];
      assert.ok(request !== undefined, `the case gives a ${tier} request or a reason to skip`);
      const r = await state.airlock.run({ ...request, tier });
      checkResultContract(r, tier);
      assert.equal(r.status, c.expect.status, JSON.stringify(r));
      assert.equal(r.error?.code ?? null, c.expect.code, JSON.stringify(r.error));
      if (c.expect.stdout !== undefined) assert.equal(r.stdout, c.expect.stdout);
      if (c.expect.violations !== undefined) assert.deepEqual(r.violations.map((v) => ({ door: v.door, code: v.code })), c.expect.violations);
      checkAuditContract(r, c.expect, typeof request.code === 'string' ? request.code : '');
      c.after?.(state.ctx);
    });
  }
}

test('the granted request of the egress case reached the server from both tiers (control for its denial)', () => {
  for (const tier of TIERS) assert.ok(state.ctx.seen.includes(`/ok/${tier}`), `${tier}: ${state.ctx.seen.join(', ')}`);
});
