// The reaper removes only what is provably orphaned, and only what is its home's (or nobody's):
// a crashed host of another home is left for that home, which then removes and records it; a
// host outside createAirlock is reaped by anyone once dead and never while alive; live
// sandboxes beside a reap keep working.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { Cgroup } from '../../src/os/cgroup.ts';
import { RUN_DIR } from '../../src/os/uids.ts';
import { reap } from '../../src/runtime/reaper.ts';
import { killUid, mountsUnder } from '../../src/runtime/reaper-os.ts';
import { REGISTRY_FILE, Registry } from '../../src/runtime/registry.ts';
import { createAirlock } from '../../src/index.ts';

const FIXTURE = new URL('../fixtures/abandon-host.ts', import.meta.url).pathname;
const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-reap-'));

async function host(mode: 'airlock' | 'direct', dir: string): Promise<{ child: ChildProcess; pid: number; sandbox: string; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, [FIXTURE, mode, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for await (const line of createInterface({ input: child.stdout })) {
    const { pid, sandbox } = JSON.parse(line) as { pid: number; sandbox: string };
    return { child, pid, sandbox, kill: async () => { child.kill('SIGKILL'); await exited; } };
  }
  throw new Error('the host exited before it was ready');
}

/** What is left of a host's sandbox and workers: cgroup names, mounts, its sandbox directory. */
async function left(pid: number, sandbox: string): Promise<{ cgroups: string[]; mounts: string[]; dir: boolean }> {
  const cgroups = (await Cgroup.list()).filter((n) => n.endsWith(`.${sandbox}`) || n.endsWith(`-${pid}`));
  return { cgroups, mounts: await mountsUnder(`${RUN_DIR}/sandboxes/${sandbox}`), dir: existsSync(`${RUN_DIR}/sandboxes/${sandbox}`) };
}

test("a crashed host of another home is left for that home, whose next start removes and records it", async () => {
  const homeB = home();
  const b = await host('airlock', homeB);
  await b.kill();
  const orphaned = await left(b.pid, b.sandbox);
  assert.equal(orphaned.cgroups.length, 2, 'control: a sandbox cgroup and a worker cgroup were left');
  assert.equal(orphaned.mounts.length, 1, 'control: the workspace mount was left');

  await using other = createAirlock({ home: home() });
  const report = await other.reap();
  assert.ok(!report.cgroups.some((c) => orphaned.cgroups.includes(c)) && !report.sandboxes.includes(b.sandbox));
  assert.deepEqual(await left(b.pid, b.sandbox), orphaned, 'a host of another home touched nothing of it');

  const audit = new MemoryAuditSink();
  await using same = createAirlock({ home: homeB, audit });
  const mine = await same.reap();
  assert.ok(mine.sandboxes.includes(b.sandbox) && orphaned.cgroups.every((c) => mine.cgroups.includes(c)), JSON.stringify(mine));
  assert.deepEqual(await left(b.pid, b.sandbox), { cgroups: [], mounts: [], dir: false });
  const destroyed = audit.events.filter((e) => e.kind === 'sandbox.destroyed').map((e) => [e.tenant, e.sandbox]);
  assert.deepEqual(new Set(destroyed.map(([t]) => t)), new Set(['alpha', 'beta']), 'the sandbox and the worker are recorded under their tenants');
  assert.ok(destroyed.some(([, s]) => s === b.sandbox));
});

test('a crashed host whose home is gone is reaped by another home, which records it naming that home', async () => {
  const homeB = home();
  const b = await host('airlock', homeB);
  await b.kill();
  const orphaned = await left(b.pid, b.sandbox);
  assert.equal(orphaned.cgroups.length, 2, 'control: a sandbox cgroup and a worker cgroup were left');
  const audit = new MemoryAuditSink();
  await using other = createAirlock({ home: home(), audit });
  const before = await other.reap();
  assert.ok(!before.sandboxes.includes(b.sandbox), 'control: while its home exists, it is left for that home');
  // Nobody will ever start in it again. (Reaped again at once, so that another host's start-up
  // reap on this machine is unlikely to take it first.)
  rmSync(homeB, { recursive: true, force: true });
  const report = await other.reap();
  assert.ok(report.sandboxes.includes(b.sandbox) && orphaned.cgroups.every((c) => report.cgroups.includes(c)), JSON.stringify(report));
  assert.deepEqual(await left(b.pid, b.sandbox), { cgroups: [], mounts: [], dir: false });
  const reasons = audit.events.flatMap((e) => (e.kind === 'sandbox.destroyed' ? [e.reason] : []));
  assert.ok(reasons.some((r) => r.includes(b.sandbox) || r.includes(homeB)), JSON.stringify(reasons));
  assert.ok(reasons.filter((r) => r.includes(`AIRLOCK_HOME ${homeB}, which no longer exists`)).length >= 2, 'the sandbox and the worker, each naming the gone home');
  const registry = Registry.open();
  try {
    assert.ok(!registry.hosts().some((h) => h.home === homeB), "the gone home's host row is forgotten");
  } finally {
    registry.close();
  }
});

test("a worker of a host registered in another home is that home's, even if the host was alive when the reap began", async () => {
  // The race this pins: a reaper read the host rows while the host was alive, and looked at its
  // worker's lock after the host died. The worker must still go to the host's own home. The real
  // registry and lock directory are used: a reap with rows or locks of its own would treat every
  // other process's worker on this machine as unattributed.
  const registry = Registry.open();
  const uid = 299_990;
  const lock = `${RUN_DIR}/uids/${uid}.lock`;
  const instance = `host-b-${process.pid}`;
  registry.addHost(instance, '/home-b'); // owned by this process: alive
  // The worker's uid lock, its owner dead, and that owner registered in /home-b too: so the
  // reapers of other test files running beside this one leave the lock to /home-b, as they must.
  const dead = `host-b-dead-${process.pid}`;
  const raw = new DatabaseSync(`${RUN_DIR}/${REGISTRY_FILE}`, { timeout: 10_000 });
  raw.prepare('INSERT INTO hosts VALUES (?, ?, ?, ?, ?)').run(dead, '/home-b', 999_999, '1', Date.now());
  writeFileSync(lock, '999999 1\n', { flag: 'wx', mode: 0o600 });
  const name = `isolate-alpha-${uid}-${process.pid}`;
  const cg = await Cgroup.create(name, { pids: 8 });
  try {
    const audit = new MemoryAuditSink();
    const other = await reap({ registry, home: '/home-a', audit });
    assert.ok(!other.cgroups.includes(name) && (await Cgroup.list()).includes(name), 'another home leaves it');
    const own = await reap({ registry, home: '/home-b', audit });
    assert.ok(own.workers.includes(name) && !(await Cgroup.list()).includes(name), 'control: its own home reaps it');
    assert.ok(audit.events.some((e) => e.kind === 'sandbox.destroyed' && e.sandbox === name), 'and records it');
  } finally {
    await cg.destroy().catch(() => undefined);
    rmSync(lock, { force: true });
    raw.prepare('DELETE FROM hosts WHERE instance = ?').run(dead);
    raw.close();
    registry.removeHost(instance);
    registry.close();
  }
});

test('a host outside createAirlock is never reaped while alive, and is reaped by anyone once dead', async () => {
  const dir = home();
  const direct = await host('direct', dir);
  try {
    await using airlock = createAirlock({ home: home() });
    await using mine = await airlock.sandbox({ tier: 'container', tenant: 'acme' });
    await mine.writeFile('keep.txt', 'mine');
    const alive = await left(direct.pid, direct.sandbox);
    assert.equal(alive.cgroups.length, 1);
    await using bystander = createAirlock({ home: home() });
    const first = await bystander.reap();
    assert.ok(!first.cgroups.some((c) => alive.cgroups.includes(c)));
    assert.deepEqual(await left(direct.pid, direct.sandbox), alive, 'a live host’s sandbox is untouched');
    const r = await mine.exec(['cat', 'keep.txt']);
    assert.equal(r.stdout, 'mine', 'a live sandbox beside the reap still works');

    await direct.kill();
    const second = await bystander.reap();
    assert.ok(alive.cgroups.every((c) => second.cgroups.includes(c)), JSON.stringify(second));
    assert.deepEqual(await left(direct.pid, direct.sandbox), { cgroups: [], mounts: [], dir: false });
    assert.equal((await mine.exec(['cat', 'keep.txt'])).stdout, 'mine', 'control: still untouched after the second reap');
  } finally {
    await direct.kill();
  }
});

test('the reaper refuses to kill the processes of a system uid', async () => {
  await assert.rejects(killUid(0), { code: 'INTERNAL' });
  await assert.rejects(killUid(999), { code: 'INTERNAL' });
});
