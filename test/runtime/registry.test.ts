// The registry: rows of a dead owner are adopted by exactly one reaper; rows of a live owner
// never are; a damaged registry file is refused (fail closed), not recreated.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry, REGISTRY_FILE } from '../../src/runtime/registry.ts';

const REGISTRY = new URL('../../src/runtime/registry.ts', import.meta.url).pathname;

test("a dead owner's rows are adopted once; a live owner's never", () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-registry-'));
  // A host that registers a sandbox and a run, then exits without cleaning up.
  const script = `import { Registry } from ${JSON.stringify(REGISTRY)};
    const r = Registry.open({ dir: ${JSON.stringify(dir)} });
    r.addHost('dead-host', '/h');
    r.admitSandbox({ id: 'sbx_dead', home: '/h', tenant: 'acme', tier: 'isolate', memoryMiB: 64 }, () => undefined);
    r.beginRun({ id: 'run_dead', home: '/h', tenant: 'acme', sandbox: 'sbx_dead', started: '{}' }, (_b, now) => ({ tokens: 1, atMs: now }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const registry = Registry.open({ dir });
  try {
    registry.admitSandbox({ id: 'sbx_live', home: '/h', tenant: 'acme', tier: 'isolate', memoryMiB: 64 }, (usage) => {
      assert.deepEqual(usage, { sandboxes: 0, memoryMiB: 0 }, "a dead owner's rows do not count against the quota");
    });
    const first = registry.adoptOrphans('/h');
    assert.deepEqual([first.hosts.map((h) => h.instance), first.sandboxes.map((s) => s.id), first.runs.map((r) => r.id)], [['dead-host'], ['sbx_dead'], ['run_dead']]);
    assert.deepEqual(registry.adoptOrphans('/h').sandboxes, [], 'adopted once: the rows are now the adopter’s');
    assert.deepEqual(registry.adoptOrphans('/other').sandboxes, [], 'control: another home adopts nothing of it');
    assert.deepEqual(registry.sandboxesOf('/h', 'acme').map((s) => s.id).sort(), ['sbx_dead', 'sbx_live']);
  } finally {
    registry.close();
  }
});

test('a damaged registry is refused with SANDBOX_UNAVAILABLE and left as it is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-registry-'));
  const garbage = Buffer.alloc(8192, 0x5a);
  writeFileSync(join(dir, REGISTRY_FILE), garbage);
  assert.throws(() => Registry.open({ dir }), (e: unknown) => (e as { code?: string }).code === 'SANDBOX_UNAVAILABLE' && /damaged/.test(String(e)));
  assert.deepEqual(readFileSync(join(dir, REGISTRY_FILE)), garbage);
  const fresh = mkdtempSync(join(tmpdir(), 'airlock-registry-'));
  Registry.open({ dir: fresh }).close();
  assert.ok(readFileSync(join(fresh, REGISTRY_FILE)).subarray(0, 15).toString() === 'SQLite format 3', 'control: a fresh directory gets a new registry');
});

test('rate buckets untouched for minutes are dropped when a new one is made, so the table does not grow with every tenant ever seen (control: a recent one is kept and still counts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-registry-'));
  const clock = { ms: 1_000_000_000 };
  const registry = Registry.open({ dir, now: () => clock.ms });
  try {
    const seen: (number | null)[] = [];
    const begin = (tenant: string): void => {
      registry.beginRun({ id: `run_${tenant}_${clock.ms}`, home: '/h', tenant, sandbox: `sbx_${tenant}`, started: '{}' }, (bucket, now) => {
        seen.push(bucket === null ? null : bucket.tokens);
        return { tokens: 5, atMs: now };
      });
    };
    begin('old');
    clock.ms += 30_000;
    begin('recent');
    clock.ms += 150_000;
    begin('new'); // 'old' is 180 s idle: dropped; 'recent' 150 s: dropped too (both full again)
    clock.ms += 1_000;
    begin('old');
    begin('new');
    assert.deepEqual(seen, [null, null, null, null, 5], "the idle buckets were dropped; 'new' (1 s old) was kept and read back");
  } finally {
    registry.close();
  }
});
