/**
 * The reaper: on start-up, finds what a crashed host left on this machine and removes it, in this
 * order, recording what it removed as audit events:
 *
 *   1. adopt the registry rows (sandboxes, runs in flight, hosts) of this home whose owner died;
 *   2. judge every airlock cgroup and sandbox directory: live or orphan (rules below);
 *   3. kill and remove orphan cgroups (the worker and sandbox processes die with them);
 *   4. unmount and remove orphan workspaces and their directories;
 *   5. release uid locks whose owner died, after killing anything still running as that uid;
 *   6. record it (run.started + run.ended HOST_CRASHED for runs that never ended;
 *      sandbox.destroyed for sandboxes and workers), flush, and only then delete the rows —
 *      so a reaper that dies half-way leaves rows the next one adopts: recorded at least once.
 *
 * Only what is provably orphaned is touched; other hosts run beside this one and share the uid
 * range, the cgroup parent and /run/airlock:
 *   - isolate worker cgroup `isolate-<tenant>-<uid>-<hostpid>`: orphan unless the lock of <uid>
 *     is held by the live process <hostpid> (a worker's lock is taken before its cgroup is made
 *     and released after it is removed);
 *   - container cgroup `<tenant>.<sandbox>` and directory sandboxes/<sandbox>: orphan when its
 *     registry row's owner is dead; with no row (made outside createAirlock), when the uid that
 *     owns it (its cgroup.procs or mounted workspace) has no live lock; otherwise left alone;
 *   - uid lock: orphan when its owner is dead.
 * And only what is this home's, or nobody's: an orphan whose dead host registered under another
 * AIRLOCK_HOME is left for that home's next start, which adopts its rows and records it in its
 * own audit log — unless that home's directory is gone and no live host uses it: then no start
 * will ever come, and this reaper takes it and records it, naming the home. Orphans no registry
 * row attributes (a host outside createAirlock) are anyone's.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import type { AuditEventBody, AuditSink } from '../audit/event.ts';
import { Cgroup } from '../os/cgroup.ts';
import { RUN_DIR } from '../os/uids.ts';
import type { Registry, SandboxRow } from './registry.ts';
import { adoptDeadLock, killUid, lockState, mountsUnder, ownerUid, removeSandboxDir, removeStrayAsides } from './reaper-os.ts';
import { ownerAlive, parseOwner } from './owner.ts';

export interface ReapReport {
  /** Sandboxes whose rows were adopted: recorded as destroyed. */
  readonly sandboxes: readonly string[];
  /** Runs that were in flight when their host died: recorded as ended with HOST_CRASHED. */
  readonly runs: readonly string[];
  /** Orphan isolate workers (by cgroup name) that were killed and removed. */
  readonly workers: readonly string[];
  readonly cgroups: readonly string[];
  readonly mounts: readonly string[];
  readonly dirs: readonly string[];
  readonly uids: readonly number[];
  /** Processes killed (in orphan cgroups, or running as an orphan uid). */
  readonly processes: number;
  /** What could not be removed, with why; the next start tries again. */
  readonly failures: readonly string[];
}

export interface ReaperOptions {
  readonly registry: Registry;
  /** This host's AIRLOCK_HOME: the rows it adopts and records are this home's. */
  readonly home: string;
  readonly audit: AuditSink;
  /** Default /run/airlock. */
  readonly runDir?: string;
}

const ISOLATE_CGROUP = /^isolate-([a-z0-9][a-z0-9_-]{0,62})-(\d+)-(\d+)$/;
const CONTAINER_CGROUP = /^([a-z0-9][a-z0-9_-]{0,62})\.([A-Za-z0-9][A-Za-z0-9_-]{0,80})$/;

interface Work {
  readonly report: {
    sandboxes: string[]; runs: string[]; workers: string[]; cgroups: string[]; mounts: string[]; dirs: string[]; uids: number[]; processes: number; failures: string[];
  };
  /** What was removed for each sandbox id (for its sandbox.destroyed reason). */
  readonly removedFor: Map<string, string[]>;
}

function note(work: Work, sandbox: string, what: string): void {
  const list = work.removedFor.get(sandbox) ?? [];
  list.push(what);
  work.removedFor.set(sandbox, list);
}

async function attempt(work: Work, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    work.report.failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Removes what crashed hosts left and records it. Never throws for a leftover it can't remove
 * (that goes in `failures`); throws when the audit log can't be made durable, leaving the rows
 * for the next start.
 *
 * @example
 *   const report = await reap({ registry, home, audit });
 *   if (report.failures.length > 0) console.warn(report.failures);
 */
export async function reap(options: ReaperOptions): Promise<ReapReport> {
  const { registry, home, audit } = options;
  const runDir = options.runDir ?? RUN_DIR;
  const lockDir = `${runDir}/uids`;
  const work: Work = { report: { sandboxes: [], runs: [], workers: [], cgroups: [], mounts: [], dirs: [], uids: [], processes: 0, failures: [] }, removedFor: new Map() };
  const { report } = work;

  // Step 1. Host rows (any home, alive or not) first, to say which home a worker serves. Alive
  // ones count too: a host alive now may be dead by the time its worker's lock is looked at, and
  // its worker is then its own home's to reap, not whoever happens to look.
  const hosts = registry.hosts();
  const hostHomes = new Map<number, Set<string>>();
  for (const h of hosts) hostHomes.set(h.owner.pid, (hostHomes.get(h.owner.pid) ?? new Set()).add(h.home));
  // A home whose directory is gone, with no live host, will never start again to reap its own:
  // what its dead hosts left is anyone's, recorded here, naming that home.
  const gone = new Set(hosts.map((h) => h.home).filter((h) => h !== home && !existsSync(h)));
  for (const h of hosts) if (ownerAlive(h.owner)) gone.delete(h.home);
  const mine = (homes: ReadonlySet<string>): boolean => homes.has(home) || [...homes].every((h) => gone.has(h));
  const orphans = [home, ...gone].map((h) => registry.adoptOrphans(h)).reduce((a, b) => ({ hosts: [...a.hosts, ...b.hosts], sandboxes: [...a.sandboxes, ...b.sandboxes], runs: [...a.runs, ...b.runs] }));
  const adopted = new Map<string, SandboxRow>(orphans.sandboxes.map((s) => [s.id, s]));
  /** True when a host pid is this home's to reap: it registered here, in a gone home, or nowhere. */
  const ours = (pid: number | undefined): boolean => {
    const homes = pid === undefined ? undefined : hostHomes.get(pid);
    return homes === undefined || mine(homes);
  };
  const whose = (of: string): string => (of === home ? '' : ` (of AIRLOCK_HOME ${of}, which no longer exists)`);
  const lockIsOurOrphan = async (uid: number, expectPid?: number): Promise<boolean> => {
    const path = `${lockDir}/${uid}.lock`;
    if ((await lockState(path, expectPid)) === 'live') return false;
    return ours(parseOwner(await readFile(path, 'utf8').catch(() => ''))?.pid ?? expectPid);
  };
  const sandboxIsOrphan = async (id: string, uidOf: () => Promise<number | undefined>): Promise<boolean> => {
    if (adopted.has(id)) return true;
    // A row of a live owner, or of a dead one in another home (that home adopts it): not ours.
    if (registry.sandboxOwner(id) !== undefined) return false;
    const uid = await uidOf();
    return uid !== undefined && uid >= 1000 && (await lockIsOurOrphan(uid));
  };

  // Steps 2 and 3: cgroups.
  const names = await Cgroup.list().catch((error: unknown) => {
    report.failures.push(`listing cgroups: ${String(error)}`);
    return [] as string[];
  });
  const workerEvents: AuditEventBody[] = [];
  for (const name of names) {
    const iso = ISOLATE_CGROUP.exec(name);
    const con = iso === null ? CONTAINER_CGROUP.exec(name) : null;
    let orphan = false;
    if (iso !== null) orphan = ours(Number(iso[3])) && (await lockIsOurOrphan(Number(iso[2]), Number(iso[3])));
    else if (con !== null) {
      // The sandbox's uid: its mounted workspace's owner (as step 4 reads it); a launch no longer
      // chowns cgroup.procs to the uid, so a root-owned one says nothing (older launches did).
      const workspace = `${runDir}/sandboxes/${con[2] ?? ''}/workspace`;
      orphan = await sandboxIsOrphan(con[2] ?? '', async () => {
        const uid = (await mountsUnder(workspace)).length > 0 ? await ownerUid(workspace) : await ownerUid(`${(await Cgroup.attach(name)).dirs[0] ?? ''}/cgroup.procs`);
        return uid === 0 ? undefined : uid;
      });
    }
    if (!orphan) continue;
    await attempt(work, `cgroup ${name}`, async () => {
      const cg = await Cgroup.attach(name);
      const pids = (await cg.pids()).length;
      await cg.destroy();
      report.processes += pids;
      report.cgroups.push(name);
      if (iso !== null) {
        report.workers.push(name);
        const [, tenant = '', uid = '', pid = ''] = iso;
        const homes = hostHomes.get(Number(pid));
        if (homes !== undefined && mine(homes)) {
          const of = homes.has(home) ? home : ([...homes][0] ?? home);
          const reason = `reaped: isolate worker of host pid ${pid}${whose(of)}, which died; killed ${pids} process(es), removed cgroup ${name}, released uid ${uid}`;
          workerEvents.push({ kind: 'sandbox.destroyed', tenant, sandbox: name, reason });
        }
      } else if (con !== null) note(work, con[2] ?? '', `cgroup ${name} (${pids} process(es) killed)`);
    });
  }

  // Step 4: workspaces and sandbox directories.
  const sandboxesDir = `${runDir}/sandboxes`;
  for (const id of await readdir(sandboxesDir).catch(() => [] as string[])) {
    const dir = `${sandboxesDir}/${id}`;
    const orphan = await sandboxIsOrphan(id, async () => ((await mountsUnder(`${dir}/workspace`)).length > 0 ? ownerUid(`${dir}/workspace`) : undefined));
    if (!orphan) continue;
    await attempt(work, `sandbox directory ${dir}`, async () => {
      const { unmounted, removed } = await removeSandboxDir(dir);
      report.mounts.push(...unmounted);
      if (removed) report.dirs.push(dir);
      note(work, id, [...unmounted.map((m) => `mount ${m}`), `directory ${dir}`].join(', '));
    });
  }

  // Step 5: uid locks of dead owners, and stray aside files.
  for (const name of await readdir(lockDir).catch(() => [] as string[])) {
    const m = /^(\d+)\.lock$/.exec(name);
    if (m === null) continue;
    const uid = Number(m[1]);
    const path = `${lockDir}/${name}`;
    await attempt(work, `uid lock ${path}`, async () => {
      if (!(await lockIsOurOrphan(uid)) || !(await adoptDeadLock(path, registry.self))) return;
      try {
        report.processes += await killUid(uid);
      } finally {
        await unlink(path).catch(() => undefined);
      }
      report.uids.push(uid);
    });
  }
  await attempt(work, 'stray lock files', async () => {
    await removeStrayAsides(lockDir);
  });

  // Step 6: record, make durable, then forget the rows.
  for (const r of orphans.runs) {
    const started = JSON.parse(r.started) as AuditEventBody;
    audit.append(started);
    audit.append({ kind: 'run.ended', tenant: r.tenant, sandbox: r.sandbox, run: r.id, status: 'killed', errorCode: 'HOST_CRASHED', usage: { wallMs: 0, cpuMs: 0, memoryBytes: 0 } });
    report.runs.push(r.id);
  }
  for (const s of orphans.sandboxes) {
    const removed = work.removedFor.get(s.id) ?? [];
    const what = removed.length > 0 ? `removed ${removed.join('; ')}` : 'nothing of it was left on this machine';
    audit.append({ kind: 'sandbox.destroyed', tenant: s.tenant, sandbox: s.id, reason: `reaped: its host (pid ${s.owner.pid})${whose(s.home)} died; ${what}` });
    report.sandboxes.push(s.id);
  }
  for (const e of workerEvents) audit.append(e);
  await audit.flush();
  for (const r of orphans.runs) registry.endRun(r.id);
  for (const s of orphans.sandboxes) registry.removeSandbox(s.id);
  for (const h of orphans.hosts) registry.removeHost(h.instance);
  return report;
}
