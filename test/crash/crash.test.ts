// The crash test: a host (test/fixtures/doomed-host.ts) is killed with SIGKILL while runs are in
// flight on both tiers. A new host on the same AIRLOCK_HOME must leave zero orphan processes,
// cgroups, mounts, workspaces and uid locks; the audit chain must verify; every run whose result
// had returned must be in the log; and the runs cut off must be recorded as HOST_CRASHED.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { REGISTRY_FILE } from '../../src/runtime/registry.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { Cgroup } from '../../src/os/cgroup.ts';
import { RUN_DIR } from '../../src/os/uids.ts';
import { mountsUnder, processesOfUid } from '../../src/runtime/reaper-os.ts';
import { createAirlock } from '../../src/index.ts';

const FIXTURE = new URL('../fixtures/doomed-host.ts', import.meta.url).pathname;
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;

interface Line {
  readonly done?: string;
  readonly ready?: boolean;
  readonly pid?: number;
  readonly sandbox?: string;
  readonly workers?: number[];
  readonly status?: string;
}

/** Registry rows of one home, read straight from the database file. */
function rows(home: string): { sandboxes: string[]; runs: string[] } {
  const db = new DatabaseSync(`${RUN_DIR}/${REGISTRY_FILE}`, { readOnly: true, timeout: 10_000 });
  try {
    const ids = (table: string): string[] => db.prepare(`SELECT id FROM ${table} WHERE home = ?`).all(home).map((r) => String(r['id']));
    return { sandboxes: ids('sandboxes'), runs: ids('runs') };
  } finally {
    db.close();
  }
}

/** True while `pid` runs (a zombie waiting for its new parent to reap it runs nothing). */
function running(pid: number): boolean {
  const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
  return status !== '' && !/^State:\s+Z/m.test(status);
}

/** Uid locks whose text names `pid` as owner. */
function locksOf(pid: number): number[] {
  return readdirSync(`${RUN_DIR}/uids`)
    .filter((n) => /^\d+\.lock$/.test(n))
    .filter((n) => readFileSync(`${RUN_DIR}/uids/${n}`, 'utf8').split(' ')[0] === String(pid))
    .map((n) => Number(n.slice(0, -5)));
}

/** Everything of the doomed host's that could be left: its cgroups, mounts, directories, locks. */
async function leftovers(pid: number, sandboxes: readonly string[]): Promise<Record<string, string[]>> {
  const cgroups = (await Cgroup.list()).filter((n) => n.endsWith(`-${pid}`) || sandboxes.some((s) => n.endsWith(`.${s}`)));
  const dirs = sandboxes.map((s) => `${RUN_DIR}/sandboxes/${s}`).filter((d) => existsSync(d));
  const mounts = (await Promise.all(sandboxes.map((s) => mountsUnder(`${RUN_DIR}/sandboxes/${s}`)))).flat();
  return { cgroups, mounts, dirs, uidLocks: locksOf(pid).map(String) };
}

test('kill -9 mid-run on both tiers: the next host leaves nothing behind and the log holds', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-crash-'));
  const child = spawn(process.execPath, [FIXTURE, home], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Whatever fails below, the doomed host does not outlive the test.
  await using stack = new AsyncDisposableStack();
  stack.defer(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const done: Line[] = [];
  let ready: Line | undefined;
  for await (const text of createInterface({ input: child.stdout })) {
    const line = JSON.parse(text) as Line;
    if (line.done !== undefined) done.push(line);
    if (line.ready === true) {
      ready = line;
      break;
    }
  }
  assert.ok(ready?.pid !== undefined && ready.sandbox !== undefined, `the doomed host did not get ready: ${Buffer.concat(stderr).toString()}`);
  const pid = ready.pid;
  assert.deepEqual(done.map((d) => d.status), ['ok', 'ok', 'ok', 'ok'], 'control: runs finished on both tiers before the crash');

  // Wait (bounded) until the three runs are in flight and the container processes are running.
  let inflight = rows(home);
  for (let i = 0; i < 200; i++) {
    inflight = rows(home);
    const busy = await Promise.all(inflight.sandboxes.map(async (s) => (await Cgroup.attach(`beta.${s}`)).pids().then((p) => p.length > 0)));
    if (inflight.runs.length === 3 && busy.filter(Boolean).length === 2) break;
    await sleep(50);
  }
  assert.equal(inflight.runs.length, 3, 'control: an isolate run, a one-shot container run and an exec are in flight');
  const doomedUids = locksOf(pid);
  const workerPids = ready.workers ?? [];
  assert.ok(workerPids.length > 0 && workerPids.every(running), 'control: the doomed host’s workers run');

  child.kill('SIGKILL');
  await exited;

  // Control: the crash left things behind (the registry rows of this home are adopted only by a
  // host of this home, and the OS leftovers they name are left to it by hosts of other homes).
  const after = rows(home);
  assert.equal(after.runs.length, 3, 'control: the crashed host left its runs in flight');
  assert.equal(after.sandboxes.length, 3, 'control: …and its sandboxes (two container, one isolate)');
  const before = await leftovers(pid, after.sandboxes);
  assert.equal(before.cgroups?.length, 3, `control: two sandbox cgroups and a worker cgroup were left: ${JSON.stringify(before)}`);
  assert.equal(before.mounts?.length, 2, 'control: two workspace mounts were left');
  assert.equal(before.dirs?.length, 2, 'control: two sandbox directories were left');

  // A new host on the same home: its first run reaps before it makes a sandbox.
  await using airlock = createAirlock({ home });
  const first = await airlock.run({ tenant: 'alpha', code: 'export default 6 * 7' });
  assert.equal(first.result, 42, JSON.stringify(first.error));
  assert.deepEqual(await leftovers(pid, after.sandboxes), { cgroups: [], mounts: [], dirs: [], uidLocks: [] });
  assert.deepEqual(rows(home).runs, [], 'no run of the crashed host is left in flight');
  assert.ok(!workerPids.some(running), 'the crashed host’s workers are gone');
  for (const uid of doomedUids) {
    // A uid freed by the crash may already serve a live sandbox of another host: then its lock
    // names that host. Otherwise nothing may run as it.
    const lock = `${RUN_DIR}/uids/${uid}.lock`;
    const owner = existsSync(lock) ? readFileSync(lock, 'utf8').split(' ')[0] : undefined;
    if (owner === undefined) assert.deepEqual(await processesOfUid(uid), [], `nothing runs as uid ${uid}`);
    else assert.notEqual(owner, String(pid));
  }
  const again = await airlock.reap();
  assert.ok(!again.runs.some((r) => after.runs.includes(r)) && !again.sandboxes.some((s) => after.sandboxes.includes(s)), 'a second reap finds nothing of it');
  await airlock.close();

  const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
  try {
    const verified = await verifyChain(store);
    assert.ok(verified.ok, JSON.stringify(verified));
    for (const d of done) {
      const records = await store.query({ run: d.done ?? '' });
      assert.deepEqual(records.map((r) => r.event.kind), ['run.started', 'run.ended'], `run ${d.done} that returned a result is in the log`);
    }
    for (const run of after.runs) {
      const records = await store.query({ run });
      assert.deepEqual(records.map((r) => r.event.kind), ['run.started', 'run.ended'], `run ${run} cut off by the crash is in the log`);
      const ended = records[1]?.event;
      assert.ok(ended?.kind === 'run.ended' && ended.status === 'killed' && ended.errorCode === 'HOST_CRASHED');
    }
    const reaped = await store.query({ sandbox: ready.sandbox });
    const destroyed = reaped.find((r) => r.event.kind === 'sandbox.destroyed')?.event;
    assert.ok(destroyed?.kind === 'sandbox.destroyed' && destroyed.reason.startsWith('reaped:') && destroyed.reason.includes('mount'), JSON.stringify(destroyed));
  } finally {
    await store.close();
  }
  const cli = spawnSync(process.execPath, [CLI, 'audit', 'verify'], { env: { ...process.env, AIRLOCK_HOME: home }, encoding: 'utf8' });
  assert.equal(cli.status, 0, `airlock audit verify: ${cli.stdout}${cli.stderr}`);
});
