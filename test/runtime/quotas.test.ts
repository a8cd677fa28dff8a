// Per-tenant quotas: concurrent sandboxes, total memory, runs per minute. Each refusal is paired
// with a control (another tenant, or the same tenant after it freed a slot), and the sandbox
// quota is raced by several host processes at once on one home.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { Quotas, type QuotaOptions } from '../../src/runtime/quotas.ts';
import { createAirlock, type RunResult } from '../../src/index.ts';
import { Registry } from '../../src/runtime/registry.ts';

const CHILD = new URL('../fixtures/quota-child.ts', import.meta.url).pathname;
const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-quota-'));
const quotaAirlock = (quotas: QuotaOptions, audit = new MemoryAuditSink()) => createAirlock({ home: home(), audit, quotas, isolate: { workersPerTenant: 1 } });
const code = (e: unknown): string => (e instanceof AirlockError ? e.code : String(e));

test('bad quota options are INVALID_REQUEST naming the field', () => {
  for (const bad of [{ default: { sandboxes: 0 } }, { default: { runsPerMinute: 1.5 } }, { default: { cpus: 2 } }, { tenants: { 'a/b': { sandboxes: 1 } } }]) {
    assert.throws(() => new Quotas(bad), (e: unknown) => code(e) === 'INVALID_REQUEST', JSON.stringify(bad));
    assert.throws(() => createAirlock({ home: home(), quotas: bad }), (e: unknown) => code(e) === 'INVALID_REQUEST');
  }
  assert.equal(new Quotas({ default: { sandboxes: 2 }, tenants: { acme: { memoryMiB: 128 } } }).of('acme').sandboxes, 2, 'control: a tenant override keeps the default for what it does not name');
});

const POLICY = compilePolicy({ version: 1 });

test('the run bucket refuses once spent, refills with time, and gains nothing from a clock stepping back', () => {
  const q = new Quotas({ default: { runsPerMinute: 2 } });
  let b = q.take('acme', null, 1_000_000, POLICY);
  b = q.take('acme', b, 1_000_000, POLICY);
  assert.throws(() => q.take('acme', b, 1_000_000, POLICY), (e: unknown) => code(e) === 'QUOTA_RUNS');
  assert.throws(() => q.take('acme', b, 900_000, POLICY), (e: unknown) => code(e) === 'QUOTA_RUNS', 'a clock that went back refills nothing');
  assert.throws(() => q.take('acme', b, 1_000_000 + 10_000, POLICY), (e: unknown) => code(e) === 'QUOTA_RUNS', 'a sixth of a token is not a run');
  const refilled = q.take('acme', b, 1_000_000 + 30_000, POLICY);
  assert.ok(refilled.tokens < 1 && refilled.atMs === 1_030_000, 'control: half a minute refills one run');
});

test('concurrent sandboxes: exactly the quota is admitted under a burst; other tenants and freed slots are admitted', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = quotaAirlock({ default: { sandboxes: 2 } }, audit);
  const burst = await Promise.allSettled(Array.from({ length: 10 }, () => airlock.sandbox({ tenant: 'acme' })));
  const got = burst.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  assert.equal(got.length, 2);
  assert.deepEqual(new Set(burst.flatMap((r) => (r.status === 'rejected' ? [code(r.reason)] : []))), new Set(['QUOTA_SANDBOXES']));
  assert.equal(audit.events.filter((e) => e.kind === 'decision' && e.subject === 'quotas.sandboxes' && !e.allow).length, 8, 'each refusal is recorded');
  await using other = await airlock.sandbox({ tenant: 'globex' });
  assert.equal(other.tenant, 'globex', 'control: another tenant is not held back by acme');
  await got[0]?.destroy();
  await using again = await airlock.sandbox({ tenant: 'acme' });
  assert.equal((await again.run('export default 1')).result, 1, 'control: a freed slot is admitted again');
  await Promise.all(got.map((s) => s.destroy()));
});

test("total memory: a sandbox that would pass the tenant's memory quota is refused", async () => {
  await using airlock = quotaAirlock({ default: { memoryMiB: 100 } });
  const policy = { version: 1 as const, limits: { memoryMiB: 64 } };
  await using first = await airlock.sandbox({ tenant: 'acme', policy });
  await assert.rejects(airlock.sandbox({ tenant: 'acme', policy }), (e: unknown) => code(e) === 'QUOTA_MEMORY');
  await using small = await airlock.sandbox({ tenant: 'acme', policy: { version: 1, limits: { memoryMiB: 32 } } });
  assert.ok(first.open && small.open, 'control: what fits is admitted');
  const r = await airlock.run({ tenant: 'acme', code: 'export default 1', policy });
  assert.equal(r.error?.code, 'QUOTA_MEMORY', 'run() reports the refusal as a result, never a rejection');
  assert.equal(r.status, 'denied');
});

test('runs per minute: a burst gets exactly the quota; the rest are denied with QUOTA_RUNS', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = quotaAirlock({ default: { runsPerMinute: 3 }, tenants: { globex: { runsPerMinute: 100 } } }, audit);
  await using sb = await airlock.sandbox({ tenant: 'acme' });
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => sb.run(`export default ${i}`)));
  assert.equal(results.filter((r) => r.status === 'ok').length, 3);
  const denied = results.filter((r) => r.status === 'denied');
  assert.equal(denied.length, 3);
  assert.ok(denied.every((r) => r.error?.code === 'QUOTA_RUNS' && /retry in \d+ ms/.test(r.error.message)));
  assert.equal(audit.events.filter((e) => e.kind === 'run.ended' && e.errorCode === 'QUOTA_RUNS').length, 3, 'each denied run is in the log');
  const other = await airlock.run({ tenant: 'globex', code: 'export default 7' });
  assert.equal(other.result, 7, 'control: another tenant still runs');
});

test('one-shot runs share the runs-per-minute quota; each refused one is in the log and leaves no registry row', async () => {
  const audit = new MemoryAuditSink();
  const dir = home();
  await using airlock = createAirlock({ home: dir, audit, quotas: { default: { runsPerMinute: 3 } }, isolate: { workersPerTenant: 1 } });
  const results: RunResult[] = [];
  for (let i = 0; i < 5; i++) results.push(await airlock.run({ tenant: 'acme', code: `export default ${i}` }));
  assert.deepEqual(results.map((r) => r.status), ['ok', 'ok', 'ok', 'denied', 'denied'], JSON.stringify(results.map((r) => r.error)));
  assert.deepEqual(results.slice(0, 3).map((r) => r.result), [0, 1, 2], 'control: the runs within the quota ran');
  const refused = results.slice(3).map((r) => r.id);
  const ended = audit.events.filter((e) => e.kind === 'run.ended' && e.errorCode === 'QUOTA_RUNS').map((e) => e.run);
  assert.deepEqual(ended, refused, 'each refused run is in the log');
  assert.equal(audit.events.filter((e) => e.kind === 'run.started' && refused.includes(e.run ?? '')).length, 0, 'a refused run never started');
  assert.equal(audit.events.filter((e) => e.kind === 'decision' && e.door === 'limit' && e.subject === 'quotas.runsPerMinute').length, 2);
  const registry = Registry.open();
  try {
    assert.deepEqual(registry.sandboxesOf(dir, 'acme'), [], 'no sandbox row outlives its one-shot run');
  } finally {
    registry.close();
  }
});

test('the sandbox quota holds across host processes racing on one home', async () => {
  const dir = home();
  const children = Array.from({ length: 4 }, () => spawn(process.execPath, [CHILD, dir, '3'], { stdio: ['pipe', 'pipe', 'inherit'] }));
  try {
    const lines = await Promise.all(children.map(async (c) => {
      for await (const line of createInterface({ input: c.stdout })) return JSON.parse(line) as { got: number; refused: string[] };
      throw new Error('a child exited without a result');
    }));
    assert.equal(lines.reduce((n, l) => n + l.got, 0), 3, JSON.stringify(lines));
    assert.ok(lines.every((l) => l.refused.every((c) => c === 'QUOTA_SANDBOXES')), JSON.stringify(lines));
  } finally {
    await Promise.all(children.map((c) => new Promise((resolve) => {
      c.once('exit', resolve);
      c.stdin.end();
    })));
  }
});
