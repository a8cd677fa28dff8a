// Shared fixtures for the container tests: a sandbox factory that records what it made, and an
// inventory of everything a sandbox could leave behind (processes, mounts, cgroups, uid locks, files).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { newId } from '../../src/core/ids.ts';
import { createContainerSandbox, DEFAULT_RUN_DIR, DEFAULT_UIDS, type ContainerSandbox, type ContainerSandboxOptions } from '../../src/container/index.ts';
import { Cgroup } from '../../src/os/cgroup.ts';
import { UidAllocator } from '../../src/os/uids.ts';
import { compilePolicy } from '../../src/policy/compile.ts';

export interface Made {
  readonly sbx: ContainerSandbox;
  readonly audit: MemoryAuditSink;
  readonly uid: number;
}

/**
 * Processes whose real uid is `uid`, from /proc. Zombies are not counted: a killed process has
 * left its cgroup and runs nothing, but stays in /proc until its parent (or init) reaps it.
 */
export async function processesOf(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const m = /^Uid:\s+(\d+)/m.exec(status);
    if (m?.[1] === String(uid) && !/^State:\s+Z/m.test(status)) pids.push(Number(name));
  }
  return pids;
}

async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(dir));
}

/** Everything a sandbox with this id and uid could leave behind. Empty arrays mean nothing. */
export async function leftovers(sandboxId: string, uid: number): Promise<Record<string, unknown[]>> {
  const cgroups = (await Cgroup.list()).filter((n) => n.endsWith(`.${sandboxId}`));
  const held = (await new UidAllocator({ stateDir: `${DEFAULT_RUN_DIR}/uids`, ...DEFAULT_UIDS }).held()).filter((u) => u === uid);
  // Test files run side by side: a uid released here may already be another process's new lease.
  // Then its lock and its processes are that owner's, not this sandbox's leftovers.
  const owner = held.length === 0 ? '' : (await readFile(`${DEFAULT_RUN_DIR}/uids/${uid}.lock`, 'utf8').catch(() => '')).split(' ')[0];
  const releasedToOther = held.length > 0 && owner !== '' && owner !== String(process.pid);
  const dir = `${DEFAULT_RUN_DIR}/sandboxes/${sandboxId}`;
  const files = await readdir(dir).then((f) => [dir, ...f], () => []);
  const processes = releasedToOther ? [] : await processesOf(uid);
  return { processes, mounts: await mountsUnder(dir), cgroups, uidLocks: releasedToOther ? [] : held, files };
}

export async function assertNothingLeft(sandboxId: string, uid: number): Promise<void> {
  assert.deepEqual(await leftovers(sandboxId, uid), { processes: [], mounts: [], cgroups: [], uidLocks: [], files: [] });
}

/** A temporary AIRLOCK_HOME, removed by `done()`. */
export async function tempHome(): Promise<{ home: string; done: () => Promise<void> }> {
  const home = await mkdtemp(`${tmpdir()}/airlock-ct-`);
  return { home, done: () => rm(home, { recursive: true, force: true }) };
}

/** The uid a sandbox runs as, read from its workspace's owner via a tiny exec. */
export async function hostUidOf(sbx: ContainerSandbox): Promise<number> {
  const { stat } = await import('node:fs/promises');
  return (await stat(`${DEFAULT_RUN_DIR}/sandboxes/${sbx.id}/workspace`)).uid;
}

/**
 * Makes a sandbox with the given policy document; `cleanup()` destroys every sandbox made and
 * asserts nothing of any of them is left.
 */
export function sandboxes(home: string): {
  make: (doc?: Record<string, unknown>, extra?: Partial<ContainerSandboxOptions>) => Promise<Made>;
  cleanup: () => Promise<void>;
} {
  const made: Made[] = [];
  return {
    async make(doc = {}, extra = {}) {
      const audit = new MemoryAuditSink();
      const sbx = await createContainerSandbox({
        tenant: 'test', sandboxId: newId('sbx'), policy: compilePolicy({ version: 1, ...doc }), audit, home, ...extra,
      });
      const m = { sbx, audit, uid: await hostUidOf(sbx) };
      made.push(m);
      return m;
    },
    async cleanup() {
      // Destroy every sandbox before asserting, so one failure does not leave the others behind.
      const results = await Promise.allSettled(made.map((m) => m.sbx.destroy()));
      for (const r of results) if (r.status === 'rejected') throw r.reason;
      for (const m of made) await assertNothingLeft(m.sbx.id, m.uid);
    },
  };
}

/** Runs a Python snippet in the sandbox. */
export function py(sbx: ContainerSandbox, code: string, timeoutMs?: number): ReturnType<ContainerSandbox['exec']> {
  return sbx.exec(['python3', '-c', code], timeoutMs === undefined ? {} : { timeoutMs });
}

export function sh(sbx: ContainerSandbox, code: string, timeoutMs?: number): ReturnType<ContainerSandbox['exec']> {
  return sbx.exec(['sh', '-c', code], timeoutMs === undefined ? {} : { timeoutMs });
}

/** A temp home and a sandbox maker for one test file, made before its tests and cleaned after. */
export function sandboxFixture(): { home?: Awaited<ReturnType<typeof tempHome>>; box?: ReturnType<typeof sandboxes> } {
  const state: { home?: Awaited<ReturnType<typeof tempHome>>; box?: ReturnType<typeof sandboxes> } = {};
  before(async () => {
    state.home = await tempHome();
    state.box = sandboxes(state.home.home);
  });
  after(async () => {
    await state.box?.cleanup();
    await state.home?.done();
  });
  return state;
}

/** Matches an AirlockError SANDBOX_UNAVAILABLE whose message names `fix`. */
export function unavailable(fix: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof AirlockError && e.code === 'SANDBOX_UNAVAILABLE' && fix.test(e.message);
}
