// Lifecycle and tenancy on the isolate tier: fresh isolate per run (no state carries over), one
// tenant's workers are never another's, a dead worker is replaced and the host lives on, and
// close() leaves no worker process, cgroup or uid behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_POLICY, testAirlock } from '../support/airlock.ts';

const alive = (pid: number | undefined): boolean => pid !== undefined && existsSync(`/proc/${pid}`);
const cgroups = (): string[] => (existsSync('/sys/fs/cgroup/memory/airlock') ? readdirSync('/sys/fs/cgroup/memory/airlock') : []).filter((d) => d.includes(`-${process.pid}`));

test('a sandbox is usable with await using, and refuses runs once destroyed', async () => {
  await using airlock = testAirlock();
  let outer;
  {
    await using sandbox = await airlock.sandbox({ tenant: 'acme', policy: TEST_POLICY });
    outer = sandbox;
    const r = await sandbox.run('export default async () => tools.add({ a: 2, b: 3 })');
    assert.equal(r.result, 5);
  }
  const after = await outer.run('export default 1');
  assert.equal(after.status, 'error');
  assert.equal(after.error?.code, 'SANDBOX_CLOSED');
});

test('no state carries from one run to the next, even in the same sandbox and worker', async () => {
  await using airlock = testAirlock();
  await using sandbox = await airlock.sandbox({ tenant: 'acme' });
  const first = await sandbox.run('globalThis.leak = "secret"; Object.prototype.polluted = 1; Array.prototype.push = null; export default 1');
  assert.equal(first.status, 'ok');
  const second = await sandbox.run('export default [typeof globalThis.leak, typeof ({}).polluted, typeof [].push]');
  assert.deepEqual(second.result, ['undefined', 'undefined', 'function']);
  assert.equal(airlock.isolate.workers('acme').length, 1, 'control: both runs used the same worker');
});

test("one tenant's runs never use another tenant's worker", async () => {
  await using airlock = testAirlock();
  await airlock.run({ tenant: 'alpha', code: 'export default 1' });
  await airlock.run({ tenant: 'beta', code: 'export default 1' });
  const a = airlock.isolate.workers('alpha').map((w) => w.pid);
  const b = airlock.isolate.workers('beta').map((w) => w.pid);
  assert.equal(a.length, 1);
  assert.equal(b.length, 1);
  assert.notDeepEqual(a, b);
  assert.ok(airlock.isolate.workers('alpha').every((w) => w.tenant === 'alpha'));
});

test('a worker killed mid-run: the run reports killed, the worker is replaced, the host lives on', async () => {
  await using airlock = testAirlock();
  await airlock.run({ tenant: 'acme', code: 'export default 1' });
  const [worker] = airlock.isolate.workers('acme');
  assert.ok(worker?.pid !== undefined);
  const running = airlock.run({ tenant: 'acme', code: 'for (;;) {}', policy: { version: 1, limits: { wallMs: 10_000, cpuMs: 10_000 } } });
  await sleep(300);
  process.kill(worker.pid, 'SIGKILL');
  const r = await running;
  assert.equal(r.status, 'killed', JSON.stringify(r.error));
  assert.equal(r.error?.code, 'WORKER_CRASHED');
  const next = await airlock.run({ tenant: 'acme', code: 'export default 7', policy: TEST_POLICY });
  assert.equal(next.result, 7);
  assert.ok(!airlock.isolate.workers('acme').some((w) => w.pid === worker.pid), 'the dead worker is gone from the pool');
});

/** Every process under `pid` (bubblewrap's children: the worker's node among them). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parents.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parents) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

test('a worker that stops answering is killed, and the run waiting for it gets a new worker, not the dying one', async () => {
  await using airlock = testAirlock();
  await airlock.run({ tenant: 'acme', code: 'export default 1' });
  const [worker] = airlock.isolate.workers('acme');
  assert.ok(worker?.pid !== undefined);
  const frozen = descendants(worker.pid);
  assert.ok(frozen.length > 0);
  for (const p of frozen) process.kill(p, 'SIGSTOP');
  // One worker per tenant: the second run waits for the first one's worker.
  const hung = airlock.run({ tenant: 'acme', code: 'export default 2', policy: { version: 1, limits: { wallMs: 200, cpuMs: 200 } } });
  const waiting = airlock.run({ tenant: 'acme', code: 'export default 7', policy: TEST_POLICY });
  const first = await hung;
  assert.equal(first.status, 'timeout', JSON.stringify(first.error));
  const next = await waiting;
  assert.equal(next.status, 'ok', JSON.stringify(next.error));
  assert.equal(next.result, 7);
  assert.ok(!airlock.isolate.workers('acme').some((w) => w.pid === worker.pid), 'the killed worker is gone from the pool');
});

test('close() leaves no worker process and no cgroup', async () => {
  const airlock = testAirlock();
  await airlock.run({ tenant: 'acme', code: 'export default 1' });
  await airlock.run({ tenant: 'other', code: 'export default 1' });
  const pids = airlock.isolate.workers().map((w) => w.pid);
  assert.equal(pids.length, 2);
  assert.ok(pids.every(alive), 'control: the workers were alive');
  assert.ok(cgroups().length >= 2, 'control: their cgroups existed');
  await airlock.close();
  assert.ok(!pids.some(alive), 'no worker process is left');
  assert.deepEqual(cgroups(), []);
});
