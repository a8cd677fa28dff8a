// Fail closed: where the host lacks what a sandbox needs, creation is refused with
// SANDBOX_UNAVAILABLE naming the fix, nothing is allocated, and nothing runs with less isolation.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import { bwrapDriver, createContainerSandbox, DEFAULT_RUN_DIR, DEFAULT_UIDS } from '../../src/container/index.ts';
import type { Driver } from '../../src/container/drivers/driver.ts';
import { Cgroup } from '../../src/os/cgroup.ts';
import { UidAllocator } from '../../src/os/uids.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { sandboxFixture, unavailable } from './helpers.ts';

const state = sandboxFixture();

/** The uid locks this test process holds (other test files run beside it and take their own). */
async function heldLocks(): Promise<number[]> {
  const dir = `${DEFAULT_RUN_DIR}/uids`;
  const all = await new UidAllocator({ stateDir: dir, ...DEFAULT_UIDS }).held();
  const owners = await Promise.all(all.map((uid) => readFile(`${dir}/${uid}.lock`, 'utf8').catch(() => '')));
  return all.filter((_uid, i) => owners[i]?.split(' ')[0] === String(process.pid));
}

async function create(driver: Driver) {
  return createContainerSandbox({ tenant: 'test', sandboxId: newId('sbx'), policy: compilePolicy({ version: 1 }), audit: new MemoryAuditSink(), home: state.home!.home, driver });
}

test('bwrap missing: refused, naming the package to install, nothing allocated', async () => {
  const locks = await heldLocks();
  await assert.rejects(create(bwrapDriver({ bwrapPath: '/nonexistent/bwrap' })), unavailable(/apt-get install -y bubblewrap/));
  assert.deepEqual(await heldLocks(), locks);
  // Control: the real bwrap passes the same preflight.
  await bwrapDriver().preflight();
});

test('user namespaces disabled: refused, naming the sysctl', async () => {
  const fake = await mkdtemp(`${tmpdir()}/airlock-procsys-`);
  try {
    await mkdir(`${fake}/user`);
    await writeFile(`${fake}/user/max_user_namespaces`, '0\n');
    await assert.rejects(create(bwrapDriver({ procSys: fake })), unavailable(/sysctl -w user\.max_user_namespaces/));
    await writeFile(`${fake}/user/max_user_namespaces`, '1000\n');
    await mkdir(`${fake}/kernel`);
    await writeFile(`${fake}/kernel/unprivileged_userns_clone`, '0\n');
    await assert.rejects(create(bwrapDriver({ procSys: fake })), unavailable(/unprivileged_userns_clone=1/));
  } finally {
    await rm(fake, { recursive: true, force: true });
  }
});

test('a missing cgroup controller is refused, naming how to mount it', async () => {
  const fake = await mkdtemp(`${tmpdir()}/airlock-cgroot-`);
  try {
    await mkdir(`${fake}/memory`);
    await writeFile(`${fake}/memory/cgroup.procs`, '');
    await assert.rejects(Cgroup.create('x', {}, { root: fake }), unavailable(/"pids" is not mounted.*mount -t cgroup/));
  } finally {
    await rm(fake, { recursive: true, force: true });
  }
});

test('a driver that fails before the command starts is SANDBOX_UNAVAILABLE, never a guest result', async () => {
  const base = bwrapDriver();
  const broken: Driver = {
    name: 'bwrap',
    preflight: () => base.preflight(),
    async command(spec, id) {
      const c = await base.command(spec, id);
      const [bwrap = '', ...rest] = c.argv;
      return { ...c, argv: [bwrap, '--ro-bind', '/nonexistent-airlock-src', '/x', ...rest] };
    },
  };
  const { sbx } = await state.box!.make({}, { driver: broken });
  const marker = `/workspace/ran-${newId('run')}`;
  await assert.rejects(sbx.exec(['sh', '-c', `touch ${marker}`]), unavailable(/driver failed before the command started/));
  assert.equal((await sbx.listFiles()).length, 0, 'the command must not have run');
});

test('bad tenant and sandbox ids are refused before anything is made', async () => {
  const policy = compilePolicy({ version: 1 });
  const audit = new MemoryAuditSink();
  const home = state.home!.home;
  await assert.rejects(createContainerSandbox({ tenant: '../x', sandboxId: 'ok', policy, audit, home }), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST');
  await assert.rejects(createContainerSandbox({ tenant: 't', sandboxId: 'a/b', policy, audit, home }), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST');
  assert.equal(audit.events.length, 0);
});
