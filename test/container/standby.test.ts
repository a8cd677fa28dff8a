// A standby whose driver fails at set-up must count as gone, promptly: its unread stdout and
// stderr pipes once kept it from ever counting as exited, so the pool's filler (and every close
// waiting for it) waited forever. The control is a standby that starts and waits for its command.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Driver, DriverCommand } from '../../src/container/drivers/driver.ts';
import { compileSpec } from '../../src/container/spec.ts';
import { HelperSpawner } from '../../src/container/spawner.ts';
import { Standby, waiterArgs } from '../../src/container/standby.ts';
import { Cgroup } from '../../src/os/cgroup.ts';
import { compilePolicy } from '../../src/policy/compile.ts';

/** A driver that runs `argv` as root, outside any namespace: only what the standby sees is under test. */
function plainDriver(argv: (args: readonly string[]) => string[]): Driver {
  return {
    name: 'bwrap',
    preflight: () => Promise.resolve(),
    command: (spec): Promise<DriverCommand> =>
      Promise.resolve({ argv: argv(spec.process.args), fileFds: [], argsPipe: null, views: [], statusFd: null, readStatus: () => ({ started: true }), runAs: 'root', cleanup: () => Promise.resolve() }),
  };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> =>
  Promise.race([p, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms).unref())]);

const spec = compileSpec(compilePolicy({ version: 1 }), { hostUid: 250_321, hostGid: 250_321, workspaceHostPath: '/nonexistent', etcHostPath: '/nonexistent', seccomp: { profile: 'container', bpfPath: '/nonexistent' }, masks: [], caBundle: null }, waiterArgs());

test('a standby whose driver fails at set-up is not ready, at once, and keeps what the driver said', async () => {
  const spawner = new HelperSpawner();
  const cg = await Cgroup.create(`test.standby-${randomUUID()}`, { pids: 16 });
  try {
    const failing = plainDriver(() => ['/bin/sh', '-c', 'echo "bwrap: Can\'t bind mount: No such file or directory" >&2; echo partial-out; exit 1']);
    const sb = await Standby.launch(spec, failing, cg, 'standby-fails', spawner);
    assert.equal(await within(sb.ready(), 5000), false);
    assert.match(sb.early, /Can't bind mount/);
    assert.equal(sb.waiting, false);

    const starting = plainDriver((args) => [...args]);
    const control = await Standby.launch(spec, starting, cg, 'standby-waits', spawner);
    assert.equal(await within(control.ready(), 5000), true, 'control: a standby that starts says so');
    assert.equal(control.early, '');
    await control.discard();
  } finally {
    await cg.destroy();
    spawner.close();
  }
});
