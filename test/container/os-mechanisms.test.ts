// The shared OS mechanisms (src/os): uid leases that never collide and reclaim dead owners, and
// cgroups that join before exec, kill whole trees and vanish on destroy.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { Cgroup, joinAndExec } from '../../src/os/cgroup.ts';
import { UidAllocator } from '../../src/os/uids.ts';

test('two allocators on one state dir never hand out the same uid; release frees it', async () => {
  const dir = await mkdtemp(`${tmpdir()}/airlock-uids-`);
  try {
    const a = new UidAllocator({ stateDir: dir, first: 300_000, count: 3 });
    const b = new UidAllocator({ stateDir: dir, first: 300_000, count: 3 });
    const leases = [await a.acquire(), await b.acquire(), await a.acquire()];
    assert.equal(new Set(leases.map((l) => l.uid)).size, 3);
    await assert.rejects(b.acquire(), (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE');
    await leases[1]!.release();
    const again = await b.acquire();
    assert.equal(again.uid, leases[1]!.uid);
    for (const l of [leases[0]!, leases[2]!, again]) await l.release();
    assert.deepEqual(await a.held(), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a lock whose owner died is reclaimed; a live owner's lock is not", async () => {
  const dir = await mkdtemp(`${tmpdir()}/airlock-uids-`);
  try {
    const dead = spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim();
    await writeFile(`${dir}/300000.lock`, `${dead} 12345\n`);
    const liveStat = await readFile(`/proc/${process.pid}/stat`, 'utf8');
    const started = liveStat.slice(liveStat.lastIndexOf(')') + 2).split(' ')[19];
    await writeFile(`${dir}/300001.lock`, `${process.pid} ${started}\n`);
    const alloc = new UidAllocator({ stateDir: dir, first: 300_000, count: 2 });
    const lease = await alloc.acquire();
    assert.equal(lease.uid, 300_000);
    await assert.rejects(alloc.acquire(), (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE');
    await lease.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('joinAndExec puts the process and its daemons in the cgroup; killAll and destroy clear it', async () => {
  const cg = await Cgroup.create(`ostest.${process.pid}`, { memoryBytes: 32 << 20, pids: 16, cpu: { quotaUs: 50_000, periodUs: 100_000 } });
  try {
    const dir = cg.dirs.find((d) => d.includes('/memory/'));
    if (dir !== undefined) {
      assert.equal(await readFile(`${dir}/memory.limit_in_bytes`, 'utf8'), `${32 << 20}\n`);
      assert.equal(await readFile(`${dir}/memory.memsw.limit_in_bytes`, 'utf8'), `${32 << 20}\n`);
    }
    const [prog = '', ...args] = joinAndExec(cg, ['/bin/sh', '-c', 'setsid sleep 60 >/dev/null & (sleep 60 >/dev/null &); echo $$']);
    const child = spawn(prog, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const out = await new Promise<string>((res) => {
      let s = '';
      child.stdout.on('data', (d: Buffer) => (s += d.toString()));
      child.on('close', () => res(s));
    });
    assert.match(out, /^\d+\n$/);
    const inside = await cg.pids();
    assert.equal(inside.length, 2, 'both detached sleeps are inside');
    await cg.killAll();
    assert.deepEqual(await cg.pids(), []);
    for (const pid of inside) {
      // Dead: gone, or a zombie waiting for the host's init to reap it.
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => 'State:\tgone');
      assert.match(status, /^State:\s+(gone|Z)/m);
    }
  } finally {
    await cg.destroy();
  }
  assert.equal(await cg.exists(), false);
  assert.ok(!(await Cgroup.list()).includes(cg.name));
});

test("a dead owner's uid that still has a process is not handed out again (no uid shared with an orphan)", async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { spawn } = await import('node:child_process');
  const { tmpdir } = await import('node:os');
  const { UidAllocator: Alloc, uidHasProcesses } = await import('../../src/os/uids.ts');
  const dir = await mkdtemp(`${tmpdir()}/uids-orphan-`);
  const uid = 399_000;
  // An "orphan" of a crashed host: a process running as the uid, whose lock names a dead pid.
  const orphan = spawn('sleep', ['30'], { uid, gid: uid, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await uidHasProcesses(uid), true, 'control: the orphan runs as the uid');
    await writeFile(`${dir}/${uid}.lock`, '999999 1\n');
    const alloc = new Alloc({ stateDir: dir, first: uid, count: 1 });
    await assert.rejects(alloc.acquire(), /in use/);
    orphan.kill('SIGKILL');
    await new Promise((r) => orphan.once('exit', r));
    await writeFile(`${dir}/${uid}.lock`, '999999 1\n');
    const lease = await alloc.acquire();
    assert.equal(lease.uid, uid, 'control: once the orphan is gone, the stale lock is reclaimed');
    await lease.release();
  } finally {
    orphan.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
