// Tenancy: nothing is reused across tenants — not a compiled policy, not a uid, not a workspace
// — and one tenant's files are unreachable from another tenant's sandbox (control: reachable
// from its own). The registry that names every tenant's sandboxes is readable by root only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RUN_DIR } from '../../src/os/uids.ts';
import { Registry, REGISTRY_FILE } from '../../src/runtime/registry.ts';
import { createAirlock, MemoryAuditSink, type AirlockError, type ExecOptions } from '../../src/index.ts';
import { hostUidOf } from '../container/helpers.ts';

const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-tenancy-'));
const POLICY = { version: 1 as const, limits: { memoryMiB: 32 } };

test('a compiled policy is cached per tenant, never shared across tenants', async () => {
  await using airlock = createAirlock({ home: home(), isolate: { workersPerTenant: 1 } });
  await using a1 = await airlock.sandbox({ tenant: 'alpha', policy: POLICY });
  await using a2 = await airlock.sandbox({ tenant: 'alpha', policy: POLICY });
  await using b = await airlock.sandbox({ tenant: 'beta', policy: POLICY });
  assert.equal(a1.policy, a2.policy, 'control: one tenant reuses its own compiled policy');
  assert.notEqual(a1.policy, b.policy, 'another tenant gets its own');
  assert.equal(a1.policy.hash, b.policy.hash, 'control: the two are the same policy');
});

test("one tenant's workspace is unreachable from another tenant's sandbox; each has its own uid", async () => {
  await using airlock = createAirlock({ home: home() });
  await using a = await airlock.sandbox({ tier: 'container', tenant: 'alpha' });
  await using b = await airlock.sandbox({ tier: 'container', tenant: 'beta' });
  await a.writeFile('secret.txt', 'alpha-only');
  const own = await a.exec(['cat', 'secret.txt']);
  assert.equal(own.stdout, 'alpha-only', 'control: the owner reads its file');
  const path = `${RUN_DIR}/sandboxes/${a.id}/workspace/secret.txt`;
  const probe = await b.exec(['sh', '-c', `cat ${path}; ls ${RUN_DIR}; ls /proc/*/root/ 2>&1 | head -c 2000`]);
  assert.ok(!probe.stdout.includes('alpha-only') && !probe.stderr.includes('alpha-only'), 'beta saw nothing of alpha’s file');
  assert.notEqual(await hostUidOf(a), await hostUidOf(b));
  assert.equal(statSync(`${RUN_DIR}/sandboxes/${a.id}/workspace`).mode & 0o077, 0, "alpha's workspace is closed to every other uid on the host");
});

test("a caller can't give its exec another run's id: the option is refused, coded, before anything runs; airlock names every run (control: the id it reports is the log's)", async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: home(), audit });
  await using a = await airlock.sandbox({ tier: 'container', tenant: 'alpha' });
  await using b = await airlock.sandbox({ tier: 'container', tenant: 'beta' });
  const theirs = await b.exec(['true']);
  // Beta's run id as the log has it (readable by whoever sees the log), not as the result says.
  const theirsId = audit.events.find((e) => e.kind === 'run.started' && e.tenant === 'beta')?.run ?? '';
  assert.match(theirsId, /^run_/);
  // What an untyped caller (or one passing options through from its own user) could send.
  const forged = { runId: theirsId } as unknown as ExecOptions;
  await assert.rejects(a.exec(['true'], forged), (e: AirlockError) => e.code === 'INVALID_REQUEST' && /runId/.test(e.message) && /run ids are airlock's to choose/.test(e.message));
  const under = (run: string): { tenant: string; kind: string }[] => audit.events.filter((e) => e.run === run).map((e) => ({ tenant: e.tenant, kind: e.kind }));
  assert.deepEqual(under(theirsId), [{ tenant: 'beta', kind: 'run.started' }, { tenant: 'beta', kind: 'run.ended' }], "beta's run id names only beta's run in the log");
  assert.equal(audit.events.filter((e) => e.kind === 'run.started' && e.tenant === 'alpha').length, 0, 'the refused exec ran nothing and recorded no run');
  const mine = await a.exec(['true']);
  assert.notEqual(mine.runId, theirsId, 'control: alpha gets a run id of its own');
  assert.deepEqual(under(mine.runId), [{ tenant: 'alpha', kind: 'run.started' }, { tenant: 'alpha', kind: 'run.ended' }], "control: alpha's exec is in the log under the id it was told");
  assert.equal(theirs.runId, theirsId, "control: beta's result reports the id its log carries");
});

test('the registry is readable by root only: a sandbox uid is refused (control: root reads it)', () => {
  Registry.open().close();
  const path = `${RUN_DIR}/${REGISTRY_FILE}`;
  assert.equal(statSync(path).mode & 0o077, 0);
  const asSandbox = spawnSync('/bin/cat', [path], { uid: 299_999, gid: 299_999 });
  assert.notEqual(asSandbox.status, 0);
  assert.match(asSandbox.stderr.toString(), /Permission denied/);
  // The host-wide registry outgrows spawnSync's 1 MiB output buffer on a busy host: the control reads it all, keeping none.
  assert.equal(spawnSync('/bin/cat', [path], { stdio: ['ignore', 'ignore', 'pipe'] }).status, 0);
});
