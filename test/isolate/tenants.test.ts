// Many tenants on one host: trust cordons (the host's assignment) decide which tenants' runs may
// share a worker process: the same cordon does, different cordons and tenants in no cordon never
// do. Workers grow on demand, are retired when idle, and a host-wide cap retires other tenants'
// least recently used idle workers. Waits are bounded polls; nothing asserts a duration.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AirlockError } from '../../src/index.ts';
import { testAirlock } from '../support/airlock.ts';

const alive = (pid: number | undefined): boolean => pid !== undefined && existsSync(`/proc/${pid}`);
const uidOf = (pid: number | undefined): string => /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';

async function until(what: string, ok: () => boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (ok()) return;
    await sleep(100);
  }
  assert.fail(`still waiting after ${tries} polls: ${what}`);
}

const CORDONS = { red: ['r1', 'r2'], blue: ['b1'] };

test('tenants of one cordon share its worker; other cordons and uncordoned tenants never share a process or uid', async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 1, cordons: CORDONS } });
  for (const tenant of ['r1', 'r2', 'b1', 'solo', 'lone']) {
    const r = await airlock.run({ tenant, code: 'export default 1' });
    assert.equal(r.status, 'ok', `${tenant}: ${r.error?.message ?? ''}`);
  }
  const pids = (tenant: string): (number | undefined)[] => airlock.isolate.workers(tenant).map((w) => w.pid);
  assert.deepEqual(pids('r1'), pids('r2'), 'control: cordon-mates r1 and r2 ran on the same worker');
  assert.equal(pids('r1').length, 1);
  assert.equal(airlock.isolate.workers('r1')[0]?.cordon, 'red');
  const groups = [pids('r1'), pids('b1'), pids('solo'), pids('lone')];
  const seen = groups.flat();
  assert.equal(new Set(seen).size, seen.length, 'red, blue, solo and lone each have processes of their own');
  const uids = seen.map(uidOf);
  assert.equal(new Set(uids).size, uids.length, 'and uids of their own');
  assert.equal(airlock.isolate.workers('solo')[0]?.cordon, null);
});

test("a run can't put itself in a cordon: the request is refused before anything runs (control: the host's cordon is used)", async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 1, cordons: CORDONS } });
  const forged = { tenant: 'solo', code: 'export default 1', cordon: 'red' } as unknown as Parameters<typeof airlock.run>[0];
  const r = await airlock.run(forged);
  assert.equal(r.status, 'invalid');
  assert.match(r.error?.message ?? '', /cordon/);
  assert.equal(airlock.isolate.workers('r1').length, 0, "no worker of red was started for the forged request");
  assert.equal(airlock.isolate.workers('solo').length, 0, 'nothing ran for solo either');
  const ok = await airlock.run({ tenant: 'r1', code: 'export default 2' });
  assert.equal(ok.result, 2);
  assert.equal(airlock.isolate.workers('r1').length, 1, 'control: the host-assigned cordon has its worker');
});

test('the host-side cordon map is checked whole: a tenant in two cordons or a bad name is refused', () => {
  assert.throws(() => testAirlock({ isolate: { cordons: { red: ['x'], blue: ['x'] } } }), (e: AirlockError) => e.code === 'INVALID_REQUEST' && /in cordons red and blue/.test(e.message));
  assert.throws(() => testAirlock({ isolate: { cordons: { 'Red Team': ['x'] } } }), (e: AirlockError) => e.code === 'INVALID_REQUEST' && /not a name/.test(e.message));
  assert.throws(() => testAirlock({ isolate: { cordons: { ['c'.repeat(57)]: ['x'] } } }), (e: AirlockError) => e.code === 'INVALID_REQUEST' && /1–56/.test(e.message));
  assert.throws(() => testAirlock({ isolate: { cordons: { red: ['Not A Tenant'] } } }), (e: AirlockError) => e.code === 'INVALID_REQUEST' && /not a tenant id/.test(e.message));
});

test('an idle worker is retired after idleWorkerMs, and the next run starts a new one', async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 1, idleWorkerMs: 200 } });
  assert.equal((await airlock.run({ tenant: 'acme', code: 'export default 1' })).status, 'ok');
  const [first] = airlock.isolate.workers('acme');
  assert.ok(alive(first?.pid), 'control: the worker is alive after its run');
  await until('the idle worker is retired', () => airlock.isolate.workers('acme').length === 0 && !alive(first?.pid));
  const again = await airlock.run({ tenant: 'acme', code: 'export default 2' });
  assert.equal(again.result, 2, 'control: the tenant runs again');
  const [second] = airlock.isolate.workers('acme');
  assert.notEqual(second?.pid, first?.pid, 'on a new worker');
});

test("past the host's cap, a new tenant's start retires the least recently used idle worker of another tenant", async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 1, maxWorkers: 2 } });
  await airlock.run({ tenant: 't1', code: 'export default 1' });
  await airlock.run({ tenant: 't2', code: 'export default 1' });
  const [w1] = airlock.isolate.workers('t1');
  const [w2] = airlock.isolate.workers('t2');
  assert.ok(alive(w1?.pid) && alive(w2?.pid), 'control: under the cap both tenants keep a worker');
  const r = await airlock.run({ tenant: 't3', code: 'export default 3' });
  assert.equal(r.result, 3);
  assert.equal(airlock.isolate.workers().length, 2, 'still two workers');
  assert.equal(airlock.isolate.workers('t1').length, 0, "t1's (least recently used) worker was retired");
  assert.equal(airlock.isolate.workers('t2')[0]?.pid, w2?.pid, "t2's more recent one was kept");
  await until("t1's retired worker process is gone", () => !alive(w1?.pid));
});

test('under a cap of one worker, three tenants running at once all finish, and the pool never holds more than one', async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 2, maxWorkers: 1 } });
  let most = 0;
  const watch = setInterval(() => (most = Math.max(most, airlock.isolate.workers().length)), 5);
  try {
    const runs = ['u1', 'u2', 'u3'].flatMap((tenant) => [1, 2].map((n) => airlock.run({ tenant, code: `export default ${n}` })));
    const results = await Promise.all(runs);
    assert.deepEqual(results.map((r) => r.status), Array(6).fill('ok'));
  } finally {
    clearInterval(watch);
  }
  assert.ok(most >= 1, 'control: the watch saw the worker');
  assert.equal(most, 1, 'never more than the cap');
});

test("a sub-run starts past the cap (its parent holds the only worker, so waiting for room would wait forever), and that extra worker is retired once idle", async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 1, maxWorkers: 1 } });
  const code = 'const child = await subrun("export default 41"); export default child + 1;';
  const r = await airlock.run({ tenant: 'acme', code, policy: { version: 1, limits: { subruns: 1 } } });
  assert.equal(r.result, 42, JSON.stringify(r.error));
  await until('the sub-run lane worker over the cap is retired', () => airlock.isolate.workers().length === 1);
  const again = await airlock.run({ tenant: 'acme', code: 'export default 7' });
  assert.equal(again.result, 7, 'control: the tenant runs on');
});

test('under the cap, a worker going idle is kept while other tenants wait for a start slot: after ten tenants ran at once, each still has its worker', async () => {
  await using airlock = testAirlock({ isolate: { workersPerTenant: 1, maxWorkers: 32, idleWorkerMs: 600_000 } });
  const tenants = Array.from({ length: 10 }, (_, i) => `k${i}`);
  const results = await Promise.all(tenants.flatMap((tenant) => [1, 2, 3].map(() => airlock.run({ tenant, code: 'export default 1' }))));
  assert.deepEqual(results.map((r) => r.status), Array(30).fill('ok'));
  assert.deepEqual(tenants.map((t) => airlock.isolate.workers(t).length), Array(10).fill(1), 'no worker was retired: none was idle for idleWorkerMs and the cap was never reached');
});
