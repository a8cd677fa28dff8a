// Both spawners (the process helper and node's spawn) join the cgroup and set the rlimits before
// the uid drop and the exec: a child whose join fails runs nothing (exit 125), and a child whose
// join works runs inside the cgroup in every hierarchy, under the limits, as the uid.
import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { HelperSpawner, nodeSpawner, type Spawner, type SpawnedProcess } from '../../src/container/spawner.ts';
import { Cgroup } from '../../src/os/cgroup.ts';

const UID = 250_007;

async function run(p: SpawnedProcess): Promise<{ code: number | null; out: string }> {
  const chunks: Buffer[] = [];
  p.stream(1)?.on('data', (b: Buffer) => chunks.push(b));
  // Every from-child pipe is read to its end, or the process never counts as exited.
  p.stream(2)?.resume();
  p.stream(0)?.end();
  const [code] = await p.exited;
  return { code, out: Buffer.concat(chunks).toString() };
}

const spawners: readonly [string, () => { spawner: Spawner; close: () => void }][] = [
  ['process helper', () => {
    const h = new HelperSpawner();
    return { spawner: h, close: () => h.close() };
  }],
  ['node spawn', () => ({ spawner: nodeSpawner(), close: () => undefined })],
];

for (const [name, make] of spawners) {
  test(`${name}: a join that fails runs nothing; one that works puts the child in the cgroup, under the rlimits, as the uid`, { timeout: 30_000 }, async () => {
    const { spawner, close } = make();
    const marker = `/tmp/airlock-spawner-setup-${process.pid}-${name.replace(' ', '-')}`;
    const cg = await Cgroup.create(`test.spawner-setup-${process.pid}-${name.replace(' ', '-')}`, { pids: 16 });
    try {
      // Attack: the join names a cgroup that is not there. The command would leave a marker.
      const refused = await run(await spawner.spawn({
        argv: ['/bin/sh', '-c', `touch ${marker}`], files: [], pipes: [],
        join: [`${cg.dirs[0] ?? ''}-missing/${cg.joinFiles[0]?.split('/').at(-1) ?? 'tasks'}`],
      }));
      assert.equal(refused.code, 125, 'set-up failed: exit 125');
      assert.equal(await stat(marker).then(() => true, () => false), false, 'the command never ran');

      // Control: the real cgroup. The child reports where it runs, its open-files limit and its uid.
      const ok = await run(await spawner.spawn({
        argv: ['/bin/sh', '-c', `touch ${marker}; cat /proc/self/cgroup; ulimit -n; ulimit -Hn; id -u`], files: [], pipes: [],
        join: cg.joinFiles, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 64, hard: 64 }], uid: UID, gid: UID,
      }));
      assert.equal(ok.code, 0, ok.out);
      assert.equal(await stat(marker).then(() => true, () => false), true, 'control: the command ran');
      const lines = ok.out.trim().split('\n');
      assert.deepEqual(lines.slice(-3), ['64', '64', String(UID)], 'the limit (soft and hard) and the uid');
      const joined = lines.filter((l) => l.endsWith(`/airlock/${cg.name}`)).length;
      assert.equal(joined, cg.dirs.length, 'in the cgroup in every hierarchy (one line each in /proc/self/cgroup)');
    } finally {
      close();
      await rm(marker, { force: true });
      await cg.destroy();
    }
  });
}
