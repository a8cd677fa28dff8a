// Defence in depth: a workspace is not reachable by its uid alone. Whoever becomes a sandbox's
// host uid outside it (a clashing subordinate id block, a leaked process) still can't open the
// workspace by path: its parent is root's, mode 0700, and each launch sees the workspace through
// a bind mount made in a mount namespace of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { newId } from '../../src/core/ids.ts';
import { ContainerPool, createContainerSandbox, DEFAULT_RUN_DIR, type ContainerSandbox } from '../../src/container/index.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { hostUidOf, sandboxFixture, sh } from './helpers.ts';

const state = sandboxFixture();

async function attackAsItsUid(sbx: ContainerSandbox): Promise<void> {
  const uid = await hostUidOf(sbx);
  await sbx.writeFile('secret.txt', 'tenant data');
  // Control: inside, the command reads and writes its workspace.
  const r = await sh(sbx, 'cat secret.txt; echo inside > made-inside.txt');
  assert.equal(r.status, 'ok', r.stderr);
  assert.equal(r.stdout, 'tenant data');
  const dir = `${DEFAULT_RUN_DIR}/sandboxes/${sbx.id}`;
  const parent = await stat(dir);
  assert.equal(parent.uid, 0);
  assert.equal(parent.mode & 0o777, 0o700);
  // Attack: the same host uid and gid, outside the sandbox, by path.
  const asIt = (cmd: string) => spawnSync('/usr/bin/setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', '/bin/sh', '-c', cmd], { encoding: 'utf8' });
  const read = asIt(`cat ${dir}/workspace/secret.txt`);
  assert.notEqual(read.status, 0);
  assert.equal(read.stdout, '', 'nothing of the workspace was read');
  assert.notEqual(asIt(`echo x > ${dir}/workspace/planted.txt`).status, 0);
  assert.notEqual(asIt(`ls ${dir}/workspace`).status, 0);
  assert.deepEqual((await sbx.listFiles()).map((e) => e.path).sort(), ['made-inside.txt', 'secret.txt'], 'nothing was planted');
  // Where launches see it, the host sees an empty directory and no mount.
  assert.deepEqual(await readdir(`${DEFAULT_RUN_DIR}/view/workspace`), []);
  assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => (l.split(' ')[4] ?? '').startsWith(`${DEFAULT_RUN_DIR}/view`)));
}

test("a sandbox's own uid can't reach its workspace by path from outside (one-shot launch)", { timeout: 60_000 }, async () => {
  const { sbx } = await state.box!.make();
  await attackAsItsUid(sbx);
});

test("a sandbox's own uid can't reach its workspace by path from outside (pooled, through the process helper)", { timeout: 60_000 }, async () => {
  await using pool = new ContainerPool({ home: state.home!.home, size: 1 });
  const sbx = await createContainerSandbox({ tenant: 'test', sandboxId: newId('sbx'), policy: compilePolicy({ version: 1 }), audit: new MemoryAuditSink(), home: state.home!.home, pool });
  try {
    await attackAsItsUid(sbx);
    // A second exec launches afresh (the standby served the first): it sees the workspace too.
    const again = await sh(sbx, 'cat made-inside.txt');
    assert.equal(again.stdout, 'inside\n');
  } finally {
    await sbx.destroy();
  }
});
