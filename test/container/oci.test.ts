// The oci driver (runc): the bundle it writes, the limits around it, what it leaves behind, and
// how it fails closed. The hostile cases run on it in conformance.test.ts.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { ociDriver } from '../../src/container/index.ts';
import { ociConfig, ociSeccomp } from '../../src/container/drivers/oci-config.ts';
import { compileSpec } from '../../src/container/spec.ts';
import { CONTAINER_PROFILE } from '../../src/os/seccomp-profiles.ts';
import { Cgroup } from '../../src/os/cgroup.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { processesOf, py, sh, sandboxFixture, unavailable } from './helpers.ts';

const state = sandboxFixture();


test('the bundle maps only the sandbox uid, grants no capability, and carries the allowlist', () => {
  const policy = compilePolicy({ version: 1 });
  const spec = compileSpec(policy, { hostUid: 250_123, hostGid: 250_123, workspaceHostPath: '/run/airlock/sandboxes/x/workspace', etcHostPath: '/run/airlock/etc', seccomp: { profile: 'container', bpfPath: '/x.bpf' }, masks: [], caBundle: null }, ['true']);
  const c = ociConfig(spec, 'oci-run_1', 'fd') as { process: Record<string, unknown>; linux: Record<string, unknown> };
  assert.deepEqual(c.linux['uidMappings'], [{ containerID: 0, hostID: 250_123, size: 1 }]);
  assert.deepEqual(c.linux['gidMappings'], [{ containerID: 0, hostID: 250_123, size: 1 }]);
  assert.deepEqual(c.process['capabilities'], { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] });
  assert.equal(c.process['noNewPrivileges'], true);
  assert.equal(c.linux['cgroupsPath'], 'oci-run_1', 'relative: under the sandbox cgroup runc was started in');
  assert.equal(c.linux['resources'], undefined, 'the sandbox cgroup, not the container, holds the limits');
  const seccomp = ociSeccomp('container') as { defaultAction: string; defaultErrnoRet: number; syscalls: { names: string[]; action: string; args?: { op: string }[] }[] };
  assert.equal(seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(seccomp.defaultErrnoRet, 1);
  assert.equal(seccomp.syscalls.length, CONTAINER_PROFILE.rules.length);
  const names = new Set(seccomp.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').map((r) => r.names[0]));
  for (const never of ['mount', 'ptrace', 'unshare', 'setns', 'keyctl', 'bpf', 'perf_event_open']) assert.ok(!names.has(never), never);
  assert.ok(names.has('read') && names.has('execve'), 'control: the allowlist allows the basics');
  assert.throws(() => ociSeccomp('nonexistent'), (e: unknown) => e instanceof AirlockError && e.code === 'INTERNAL');
});

test('a missing runtime is refused, naming the package; a runtime that fails before the command is SANDBOX_UNAVAILABLE', async () => {
  await assert.rejects(state.box!.make({}, { driver: ociDriver({ runtimePath: '/nonexistent/runc' }) }), unavailable(/apt-get install -y runc/));
  const dir = await mkdtemp(`${tmpdir()}/airlock-fake-runc-`);
  try {
    // A "runtime" that fails the way runc does on a bad bundle: a message and exit 1, nothing run.
    await writeFile(`${dir}/runc`, '#!/bin/sh\necho "runc run failed: bad bundle" >&2\nexit 1\n');
    await chmod(`${dir}/runc`, 0o755);
    const { sbx } = await state.box!.make({}, { driver: ociDriver({ runtimePath: `${dir}/runc`, stateDir: `${dir}/state` }) });
    await assert.rejects(sh(sbx, 'exit 1'), unavailable(/failed before the command started: runc run failed/));
    // Control: a real runc in the same kind of sandbox reports the guest's own exit 1.
    const real = await state.box!.make({}, { driver: ociDriver() });
    const r = await sh(real.sbx, 'exit 1');
    assert.equal(r.status, 'error');
    assert.equal(r.exitCode, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('on runc: memory, wall time and output limits hold, and nothing is left of the container', async () => {
  const { sbx, uid, audit } = await state.box!.make({ limits: { memoryMiB: 48, outputBytes: 1000 } }, { driver: ociDriver() });
  const control = await py(sbx, 'x = bytearray(8 << 20); print(len(x))');
  assert.equal(control.stdout, `${8 << 20}\n`, control.stderr);
  const bomb = await py(sbx, 'x = []\nwhile True: x.append(bytearray(4 << 20))');
  assert.equal(bomb.status, 'memory');
  const slow = await sh(sbx, 'setsid sleep 60 & (sleep 60 &); sleep 60', 500);
  assert.equal(slow.status, 'timeout');
  assert.deepEqual(await processesOf(uid), []);
  const loud = await sh(sbx, 'yes');
  assert.equal(loud.status, 'killed');
  const files = await sh(sbx, 'echo kept > f && cat f');
  assert.equal(files.stdout, 'kept\n');
  assert.equal((await sbx.readFile('f')).toString(), 'kept\n', 'written as the sandbox uid, readable by the host');
  // No runc container record, bundle or child cgroup outlives its exec.
  const runs = audit.events.flatMap((e) => (e.kind === 'run.started' ? [`airlock-${e.run}`] : []));
  assert.equal(runs.length, 5, 'control: five execs ran');
  assert.deepEqual((await readdir('/run/airlock/runc').catch(() => [] as string[])).filter((n) => runs.includes(n)), []);
  assert.deepEqual((await sbx.listFiles()).map((f) => f.path), ['f']);
  const cg = (await Cgroup.list()).find((n) => n.endsWith(`.${sbx.id}`)) ?? '';
  assert.deepEqual(await readdir(`/sys/fs/cgroup/pids/airlock/${cg}`, { withFileTypes: true }).then((es) => es.filter((e) => e.isDirectory()).map((e) => e.name)), [], 'no container cgroup is left inside the sandbox cgroup');
});
