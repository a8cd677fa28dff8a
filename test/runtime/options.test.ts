// The library's option objects are checked whole: a misspelt or unknown key is INVALID_REQUEST
// naming it, never a silent default — `sandbox({ tenat: 'acme' })` must not run in the default tenant.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AirlockError, createAirlock, MemoryAuditSink, type AirlockOptions, type SandboxRunOptions } from '../../src/index.ts';

const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-options-'));
const invalid = (names: RegExp) => (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST' && names.test(e.message) && /Allowed: /.test(e.message);

test('createAirlock refuses unknown or ill-typed options, naming them (control: the same options spelt right)', async () => {
  for (const [bad, names] of [
    [{ tolls: {} }, /tolls/],
    [{ isolate: { workers: 2 } }, /workers/],
    [{ isolate: { workersPerTenant: 0 } }, /workersPerTenant/],
    [{ tools: { lookup: 'not a function' } }, /tools\.lookup/],
    [{ audit: { flush: () => undefined } }, /audit/],
    [{ audit: 'batched' }, /audit: expected an AuditSink .* or \{ durability: 'durable' \| 'batched', flushMs \}/],
    [{ audit: { durability: 'fast' } }, /audit\.durability: must be 'durable' .* or 'batched'/],
    [{ audit: { durability: 'batched', flushMs: 0 } }, /audit\.flushMs: must be a whole number of milliseconds from 1 to 1000/],
    [{ audit: { durability: 'batched', flushMs: 2.5 } }, /audit\.flushMs/],
    [{ audit: { flushMs: 5 } }, /flushMs applies to durability: 'batched' only: add durability: 'batched', or drop flushMs/],
    [{ egress: { limits: { maxBodyByte: 1 } } }, /maxBodyByte/],
    [{ quotas: { defaults: { sandboxes: 1 } } }, /defaults/],
    [{ checkpoint: { everyRecord: 10 } }, /everyRecord/],
    [{ checkpoint: { witnesses: [{ publish: () => undefined }] } }, /witnesses\.0/],
    [{ audit: new MemoryAuditSink(), checkpoint: { everyMs: 10 } }, /checkpoint applies to the default audit log only/],
  ] as const) {
    assert.throws(() => createAirlock({ home: home(), ...bad } as unknown as AirlockOptions), invalid(names), JSON.stringify(bad));
  }
  await using ok = createAirlock({ home: home(), tools: { lookup: () => 1 }, isolate: { workersPerTenant: 1 }, egress: { limits: { maxBodyBytes: 1024 } } });
  assert.equal((await ok.run({ code: 'export default 2' })).result, 2, 'control: good options make a working airlock');
  for (const audit of [{ durability: 'batched', flushMs: 5 }, { durability: 'durable' }, {}] as const) {
    await using good = createAirlock({ home: home(), audit });
    assert.equal((await good.run({ code: 'export default 3' })).result, 3, `control: audit ${JSON.stringify(audit)} is taken`);
  }
});

test("a misspelt sandbox option is refused before anything is made: no sandbox lands in the default tenant (control: 'tenant' spelt right)", async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit });
  await assert.rejects(airlock.sandbox({ tenat: 'acme' } as unknown as { tenant: string }), invalid(/tenat/));
  await assert.rejects(airlock.sandbox({ tenant: 'acme', tier: 'vm' } as unknown as { tenant: string }), invalid(/tier/));
  assert.deepEqual(audit.events.filter((e) => e.kind === 'sandbox.created'), [], 'no sandbox was made, in any tenant');
  await using box = await airlock.sandbox({ tenant: 'acme' });
  assert.equal(box.tenant, 'acme', 'control: the tenant spelt right is taken');
});

test('a misspelt run option is a coded invalid result and runs nothing (control: spelt right, the option is taken)', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit });
  await using box = await airlock.sandbox({ tenant: 'acme' });
  const bad = await box.run('export default (input) => input', { inptu: 5 } as unknown as SandboxRunOptions);
  assert.equal(bad.status, 'invalid');
  assert.equal(bad.error?.code, 'INVALID_REQUEST');
  assert.match(bad.error.message, /inptu/);
  assert.deepEqual(audit.events.filter((e) => e.kind === 'run.started'), [], 'nothing ran');
  const good = await box.run('export default (input) => input', { input: 5 });
  assert.equal(good.result, 5, 'control: input spelt right reaches the code');
});
