// The shared root process helper serves every tenant's processes: nothing one child or one request
// does may end it. Each attack runs while another process is in flight, and that process must still
// end normally with its output (on a dead helper its end is reported at once as [null, null]).
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import { ContainerPool, createContainerSandbox, DEFAULT_RUN_DIR } from '../../src/container/index.ts';
import { Mounter } from '../../src/container/mounter.ts';
import { HelperSpawner, type SpawnedProcess } from '../../src/container/spawner.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { hostUidOf, processesOf, tempHome } from './helpers.ts';

/** A process that waits for its stdin to close, then prints "done" and exits 0. */
async function inFlight(spawner: HelperSpawner): Promise<{ p: SpawnedProcess; out: () => string }> {
  const p = await spawner.spawn({ argv: ['/bin/sh', '-c', 'cat >/dev/null; echo done'], files: [], pipes: [] });
  const chunks: Buffer[] = [];
  p.stream(1)?.on('data', (b: Buffer) => chunks.push(b));
  return { p, out: () => Buffer.concat(chunks).toString() };
}

test('a child killed by a signal the helper cannot name (SIGRTMIN+3) ends alone: another exec in flight completes', { timeout: 30_000 }, async () => {
  const spawner = new HelperSpawner();
  const other = await inFlight(spawner);
  try {
    // 37 is SIGRTMIN+3 under glibc: Python's signal module has no name for it.
    const victim = await spawner.spawn({ argv: ['/bin/sh', '-c', 'kill -37 $$'], files: [], pipes: [] });
    victim.stream(0)?.end();
    assert.deepEqual(await victim.exited, [128 + 37, null], 'reported by number, as a shell would');
    other.p.stream(0)?.end();
    assert.deepEqual(await other.p.exited, [0, null]);
    assert.equal(other.out(), 'done\n');
    // Control: the same helper still starts processes.
    const after = await inFlight(spawner);
    after.p.stream(0)?.end();
    assert.deepEqual(await after.p.exited, [0, null]);
    assert.equal(after.out(), 'done\n');
  } finally {
    other.p.stream(0)?.end();
    spawner.close();
  }
});

test('a request the helper cannot carry out fails alone: another exec in flight completes', { timeout: 30_000 }, async () => {
  const spawner = new HelperSpawner();
  const other = await inFlight(spawner);
  try {
    // A lone surrogate can't be encoded as a file name: Python raises UnicodeEncodeError, not OSError.
    await assert.rejects(
      spawner.spawn({ argv: ['/usr/bin/true'], files: [{ fd: 5, path: '/etc/\ud800' }], pipes: [] }),
      (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE' && /bad request/.test(e.message),
    );
    other.p.stream(0)?.end();
    assert.deepEqual(await other.p.exited, [0, null]);
    assert.equal(other.out(), 'done\n');
    // Control: a good request on the same helper works.
    const ok = await spawner.spawn({ argv: ['/bin/sh', '-c', 'echo ok'], files: [], pipes: [] });
    const chunks: Buffer[] = [];
    ok.stream(1)?.on('data', (b: Buffer) => chunks.push(b));
    ok.stream(0)?.end();
    assert.deepEqual(await ok.exited, [0, null]);
    assert.equal(Buffer.concat(chunks).toString(), 'ok\n');
  } finally {
    other.p.stream(0)?.end();
    spawner.close();
  }
});

test("one sandbox's driver killed by SIGRTMIN+3 fails its own exec only: another tenant's exec in flight on the same helper completes", { timeout: 60_000 }, async () => {
  const home = await tempHome();
  const pool = new ContainerPool({ home: home.home, size: 0 });
  const policy = compilePolicy({ version: 1 });
  const make = (tenant: string) => createContainerSandbox({ tenant, sandboxId: newId('sbx'), policy, audit: new MemoryAuditSink(), home: home.home, pool });
  const a = await make('tenant-a');
  const b = await make('tenant-b');
  try {
    // A waits for a file the test writes once B's driver is dead (bounded by A's wall limit).
    const runA = a.exec(['sh', '-c', 'while [ ! -e go ]; do sleep 0.02; done; echo done']);
    const runB = b.exec(['sleep', '30']);
    const uidB = await hostUidOf(b);
    const cmdline = (pid: number) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const parent = async (pid: number) => Number((await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ')[2] ?? 0);
    // Once B's command runs, its driver is the bwrap of B's uid whose parent is not a bwrap (the
    // helper's own child; the one inside is pid 1 of B's namespace, which ignores such signals).
    const driverOfB = async (): Promise<number | undefined> => {
      const pids = await processesOf(uidB);
      const lines = await Promise.all(pids.map(cmdline));
      if (!lines.some((l) => l.startsWith('sleep\u000030'))) return undefined;
      for (const [i, pid] of pids.entries()) {
        if (lines[i]?.startsWith('/usr/bin/bwrap') === true && !(await cmdline(await parent(pid))).startsWith('/usr/bin/bwrap')) return pid;
      }
      return undefined;
    };
    let pid = await driverOfB();
    for (let i = 0; i < 200 && pid === undefined; i++) pid = await new Promise<number | undefined>((resolve) => setTimeout(() => void driverOfB().then(resolve), 25));
    assert.ok(pid !== undefined, "B's command runs under its bwrap");
    process.kill(pid, 37);
    // B's exec ends: its driver died before reporting the command's end (SANDBOX_UNAVAILABLE).
    const rb = await runB.then((r) => r.status, (e: unknown) => (e instanceof AirlockError ? e.code : 'not coded'));
    assert.equal(rb, 'SANDBOX_UNAVAILABLE');
    await writeFile(`${DEFAULT_RUN_DIR}/sandboxes/${a.id}/workspace/go`, '');
    const ra = await runA;
    assert.equal(ra.status, 'ok', `${ra.error?.code ?? ''} ${ra.error?.message ?? ''} ${ra.stderr}`);
    assert.equal(ra.stdout, 'done\n');
    // Control: B's sandbox still runs commands afterwards, through the same helper.
    const again = await b.exec(['sh', '-c', 'echo again']);
    assert.equal(again.stdout, 'again\n');
  } finally {
    await a.destroy();
    await b.destroy();
    await pool.close();
    await home.done();
  }
});

test('the mount helper answers a request it cannot carry out with an error; the mount sent after it succeeds', { timeout: 30_000 }, async () => {
  const base = `${DEFAULT_RUN_DIR}/sandboxes/mounter-survives-${process.pid}`;
  await mkdir(`${base}/workspace`, { recursive: true });
  const m = new Mounter(`${DEFAULT_RUN_DIR}/sandboxes`);
  try {
    // NaN travels as null: the helper's int() raises TypeError on it.
    const bad = m.mountTmpfs(`${base}/workspace`, { bytes: Number.NaN, inodes: 64, uid: 1_900_099_999, gid: 1_900_099_999 });
    const good = m.mountTmpfs(`${base}/workspace`, { bytes: 1 << 20, inodes: 64, uid: 1_900_099_999, gid: 1_900_099_999 });
    await assert.rejects(bad, (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE');
    await good;
    assert.match(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(`${base}/workspace .*tmpfs airlock-ws .*size=1024k,nr_inodes=64`));
  } finally {
    await m.unmount(`${base}/workspace`).catch(() => undefined);
    m.close();
    await rm(base, { recursive: true, force: true });
  }
});
