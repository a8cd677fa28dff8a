/**
 * One cgroup per sandbox (or per isolate worker), on cgroup v2 where /sys/fs/cgroup is cgroup2 and
 * on v1 where the controllers are separate hierarchies (this host's hybrid). Names live under an
 * `airlock/` parent so a reaper can find what a crashed host left behind. Swap is off: the memory
 * limit is the limit of memory plus swap.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockError } from '../core/errors.ts';
import { inheritableFds } from './fds.ts';
import { CGROUP_NAME, detect, exists, isLayout, killPidsNow, PARENT, put, readKeyedNow, readNumber, readNumberNow, type CgroupLayout, type Layout, type V1Controller } from './cgroup-fs.ts';

export type { CgroupLayout } from './cgroup-fs.ts';

export interface CgroupLimits {
  readonly memoryBytes?: number;
  readonly pids?: number;
  readonly cpu?: { readonly quotaUs: number; readonly periodUs: number };
}

export interface CgroupStats {
  readonly memoryBytes: number;
  readonly peakMemoryBytes: number;
  readonly oomKills: number;
  readonly cpuNs: number;
}

/** Where cgroups are mounted; tests and unusual hosts may point elsewhere. */
export interface CgroupOptions {
  readonly root?: string;
  /** A layout found earlier by Cgroup.layout(), so a pool of sandboxes detects it once. */
  readonly layout?: CgroupLayout;
}

/**
 * @example
 *   const cg = await Cgroup.create('tenant-a.sbx1', { memoryBytes: 64 << 20, pids: 64 });
 *   spawn(joinAndExec(cg, ['bwrap', …])[0], …);
 *   await cg.killAll(); await cg.destroy();
 */
export class Cgroup {
  readonly name: string;
  readonly #layout: Layout;
  /** pids.max as this handle set it (v1 killAll clamps it to 0 meanwhile); unknown for an attached cgroup. */
  #pidsLimit: string | undefined;

  private constructor(name: string, layout: Layout) {
    this.name = name;
    this.#layout = layout;
  }

  /** Detects the host's cgroup layout (and refuses a host without the controllers), once. */
  static async layout(options: CgroupOptions = {}): Promise<CgroupLayout> {
    return detect(options.root ?? '/sys/fs/cgroup');
  }

  /** Makes `airlock/<name>` in every controller with the limits set; swap is off. */
  static async create(name: string, limits: CgroupLimits, options: CgroupOptions = {}): Promise<Cgroup> {
    if (!CGROUP_NAME.test(name)) throw new AirlockError('INTERNAL', `bad cgroup name ${JSON.stringify(name)}: use [A-Za-z0-9_.-]`);
    const layout = options.layout !== undefined && isLayout(options.layout) ? options.layout : await detect(options.root ?? '/sys/fs/cgroup');
    const cg = new Cgroup(name, layout);
    try {
      if (layout.version === 2) {
        if (!(await exists(`${layout.dir}/cgroup.subtree_control`))) {
          await mkdir(layout.dir, { recursive: true });
          const root = layout.dir.slice(0, layout.dir.lastIndexOf('/'));
          await put(`${root}/cgroup.subtree_control`, '+memory +pids +cpu');
          await put(`${layout.dir}/cgroup.subtree_control`, '+memory +pids +cpu');
        }
        await mkdir(`${layout.dir}/${name}`);
      } else {
        for (const dir of layout.unique) {
          // The parent is made once; a missing one (first run, or removed by hand) is made here.
          await mkdir(`${dir}/${name}`).catch(async (error: unknown) => {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
            await mkdir(dir, { recursive: true });
            await mkdir(`${dir}/${name}`);
          });
        }
      }
      await cg.#apply(limits);
    } catch (error) {
      await cg.destroy().catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AirlockError('INTERNAL', `cgroup ${PARENT}/${name} already exists: sandbox ids must be unique`);
      }
      throw error;
    }
    return cg;
  }

  /**
   * A handle on an `airlock/<name>` that already exists (or may not), made by another process:
   * how the reaper kills and removes what a crashed host left. Creates nothing.
   */
  static async attach(name: string, options: CgroupOptions = {}): Promise<Cgroup> {
    if (!CGROUP_NAME.test(name)) throw new AirlockError('INTERNAL', `bad cgroup name ${JSON.stringify(name)}: use [A-Za-z0-9_.-]`);
    return new Cgroup(name, await detect(options.root ?? '/sys/fs/cgroup'));
  }

  /**
   * Renames the cgroup in every hierarchy (a pre-made cgroup taking its sandbox's name); the
   * processes inside and the limits stay. Returns the handle under the new name.
   */
  rename(name: string): Promise<Cgroup> {
    if (!CGROUP_NAME.test(name)) throw new AirlockError('INTERNAL', `bad cgroup name ${JSON.stringify(name)}: use [A-Za-z0-9_.-]`);
    const next = new Cgroup(name, this.#layout);
    next.#pidsLimit = this.#pidsLimit;
    const from = this.dirs;
    const to = next.dirs;
    for (const [i, dir] of from.entries()) {
      try {
        // cgroupfs: synchronous, see below.
        renameSync(dir, to[i] ?? '');
      } catch (error) {
        // Put back what moved, so the cgroup is never split across two names.
        for (let j = 0; j < i; j++) {
          try {
            renameSync(to[j] ?? '', from[j] ?? '');
          } catch {
            // Best effort; the reaper finds the rest by name.
          }
        }
        return Promise.reject(new AirlockError('INTERNAL', `can't rename cgroup ${this.name} to ${name}: ${String(error)}`));
      }
    }
    return Promise.resolve(next);
  }

  /** The directories a process must join, one per hierarchy. */
  get dirs(): readonly string[] {
    const l = this.#layout;
    return l.version === 2 ? [`${l.dir}/${this.name}`] : l.unique.map((d) => `${d}/${this.name}`);
  }

  #dir(controller: V1Controller): string {
    const l = this.#layout;
    return l.version === 2 ? `${l.dir}/${this.name}` : `${l.dirs[controller]}/${this.name}`;
  }

  async #apply(limits: CgroupLimits): Promise<void> {
    const v2 = this.#layout.version === 2;
    if (limits.memoryBytes !== undefined) await this.setMemoryLimit(limits.memoryBytes);
    if (limits.pids !== undefined) {
      await put(`${this.#dir('pids')}/pids.max`, String(limits.pids));
      this.#pidsLimit = String(limits.pids);
    }
    if (limits.cpu !== undefined) {
      const { quotaUs, periodUs } = limits.cpu;
      if (v2) {
        await put(`${this.#dir('cpu')}/cpu.max`, `${quotaUs} ${periodUs}`);
      } else {
        await put(`${this.#dir('cpu')}/cpu.cfs_period_us`, String(periodUs));
        await put(`${this.#dir('cpu')}/cpu.cfs_quota_us`, String(quotaUs));
      }
    }
  }

  /** Sets the memory limit; memory plus swap is set to the same value, so nothing swaps. */
  async setMemoryLimit(bytes: number): Promise<void> {
    const dir = this.#dir('memory');
    const value = String(Math.floor(bytes));
    if (this.#layout.version === 2) {
      await put(`${dir}/memory.swap.max`, '0');
      await put(`${dir}/memory.max`, value);
      return;
    }
    // v1 charges socket buffers to a cgroup only once its TCP limit is set (v2 charges them to
    // memory.max by default): without it, loopback sockets that are never read pin host memory
    // far past the limit, up to the host's whole tcp_mem, shared by every tenant.
    await put(`${dir}/memory.kmem.tcp.limit_in_bytes`, value);
    // memsw must stay >= limit at every step: raise memsw first when growing, lower it last when shrinking.
    const current = await readNumber(`${dir}/memory.limit_in_bytes`);
    if (bytes > current) {
      await put(`${dir}/memory.memsw.limit_in_bytes`, value);
      await put(`${dir}/memory.limit_in_bytes`, value);
    } else {
      await put(`${dir}/memory.limit_in_bytes`, value);
      await put(`${dir}/memory.memsw.limit_in_bytes`, value);
    }
  }

  /**
   * The files a single-threaded process writes `0` to, to move itself in (joinAndExec, the
   * process helper). On v1 that is `tasks`: a thread moving itself is moved without the host-wide
   * threadgroup lock (Linux 6.2+), where a write to `cgroup.procs` takes it and, on a host that
   * moved nothing for a few milliseconds, waits out an RCU grace period first (11–14 ms here, on
   * every sparse launch). Every joiner is single-threaded (dash, a freshly forked child), so its
   * one thread is the whole process, and everything it forks or execs after starts inside.
   */
  get joinFiles(): readonly string[] {
    return this.dirs.map((d) => `${d}/${this.#layout.version === 2 ? 'cgroup.procs' : 'tasks'}`);
  }

  // The reads and writes below are of cgroupfs files, which the kernel answers from memory in
  // microseconds: they are synchronous, because a thread-pool round trip per file cost more
  // than the file (the launcher reads a dozen per exec).

  /** Starts a fresh peak-memory measurement (v1; on v2 the peak covers the cgroup's life). */
  resetPeak(): Promise<void> {
    if (this.#layout.version === 1) {
      try {
        writeFileSync(`${this.#dir('memory')}/memory.max_usage_in_bytes`, '0');
      } catch {
        // An older kernel without the file: the peak then covers the cgroup's life.
      }
    }
    return Promise.resolve();
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a failed read rejects, as before
  async stats(): Promise<CgroupStats> {
    return this.#statsNow();
  }

  #statsNow(): CgroupStats {
    const mem = this.#dir('memory');
    if (this.#layout.version === 2) {
      const events = readKeyedNow(`${mem}/memory.events`);
      const cpu = readKeyedNow(`${this.#dir('cpu')}/cpu.stat`);
      const current = readNumberNow(`${mem}/memory.current`);
      const peak = existsSync(`${mem}/memory.peak`) ? readNumberNow(`${mem}/memory.peak`) : current;
      return { memoryBytes: current, peakMemoryBytes: peak, oomKills: events.get('oom_kill') ?? 0, cpuNs: (cpu.get('usage_usec') ?? 0) * 1000 };
    }
    const oom = readKeyedNow(`${mem}/memory.oom_control`);
    return {
      memoryBytes: readNumberNow(`${mem}/memory.usage_in_bytes`),
      peakMemoryBytes: readNumberNow(`${mem}/memory.max_usage_in_bytes`),
      oomKills: oom.get('oom_kill') ?? 0,
      cpuNs: readNumberNow(`${this.#dir('cpuacct')}/cpuacct.usage`),
    };
  }

  /**
   * Every directory of this cgroup, descendants first (an OCI runtime puts its container in a
   * child cgroup of ours, which our limits bound and our kill must reach).
   */
  #tree(roots: readonly string[] = this.dirs): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) walk(`${dir}/${e.name}`);
      out.push(dir);
    };
    for (const dir of roots) walk(dir);
    return out;
  }

  /** The pids inside, child cgroups included (of the first hierarchy; every hierarchy holds the same processes). */
  pids(): Promise<number[]> {
    const first = this.dirs[0];
    if (first === undefined) return Promise.resolve([]);
    const pids: number[] = [];
    // Only the first hierarchy's tree is walked: the launcher asks this several times per exec.
    for (const dir of this.#tree([first])) {
      try {
        for (const s of readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n')) if (s !== '') pids.push(Number(s));
      } catch {
        // Removed meanwhile.
      }
    }
    return Promise.resolve(pids);
  }

  #killEverywhere(): void {
    for (const dir of this.#tree()) killPidsNow(`${dir}/cgroup.procs`);
  }

  /**
   * Kills every process inside, including daemonised and re-parented ones, and waits until the
   * cgroup is empty. v2 has cgroup.kill. On v1, pids.max is set to 0 meanwhile (it holds for the
   * cgroups below too), so no fork or clone succeeds and a fork bomb can't outrun the kill loop;
   * it is set back once the cgroup is empty. Freezing would do the same, but a host that died
   * between freezing and thawing left the processes frozen for good: unkillable, deaf to their
   * parent's death, holding their memory and uid. A cgroup found frozen (by an older airlock) is
   * thawed, so the kill lands.
   */
  async killAll(): Promise<void> {
    if ((await this.pids()).length === 0) return;
    const clamped = this.#layout.version === 2 ? null : await this.#clampForks();
    try {
      if (clamped === null) await put(`${this.dirs[0] ?? ''}/cgroup.kill`, '1');
      for (let i = 0; i < 500; i++) {
        if ((await this.pids()).length === 0) return;
        this.#killEverywhere();
        await sleep(Math.min(1 + i, 20));
      }
      throw new AirlockError('INTERNAL', `cgroup ${this.name} still has processes after SIGKILL`);
    } finally {
      if (clamped !== null) await this.#unclampForks(clamped);
    }
  }

  /** v1: no more forks in here; thaws a cgroup left frozen. Returns pids.max as it was. */
  async #clampForks(): Promise<string> {
    const pidsMax = `${this.#dir('pids')}/pids.max`;
    const was = (await readFile(pidsMax, 'utf8').catch(() => 'max')).trim();
    await writeFile(pidsMax, '0').catch(() => undefined);
    const freezer = `${this.#dir('freezer')}/freezer.state`;
    if ((await readFile(freezer, 'utf8').catch(() => 'THAWED')).trim() !== 'THAWED') await writeFile(freezer, 'THAWED').catch(() => undefined);
    return was;
  }

  /** Puts pids.max back: what this handle set, or what was there unless another kill had clamped it. */
  async #unclampForks(was: string): Promise<void> {
    const restore = this.#pidsLimit ?? (was === '0' ? undefined : was);
    if (restore !== undefined) await writeFile(`${this.#dir('pids')}/pids.max`, restore).catch(() => undefined);
  }

  /** Kills what is left and removes the cgroup (child cgroups first) from every hierarchy. Idempotent. */
  async destroy(): Promise<void> {
    await this.killAll().catch(() => undefined);
    for (const dir of this.#tree()) {
      for (let i = 0; i < 100; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || i === 99) throw error;
          // Zombies leave cgroup.procs a moment after SIGKILL; on a loaded machine that moment
          // can pass half a second, so the wait grows (about 3 s in all).
          await sleep(Math.min(5 + i, 50));
        }
      }
    }
  }

  /** Names of airlock cgroups present now (for the reaper and for tests that check cleanup). */
  static async list(options: CgroupOptions = {}): Promise<string[]> {
    const layout = await detect(options.root ?? '/sys/fs/cgroup');
    const dirs = layout.version === 2 ? [layout.dir] : layout.unique;
    const names = new Set<string>();
    for (const dir of dirs) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) names.add(e.name);
    }
    return [...names].sort();
  }

  /** True when the cgroup directory still exists somewhere. */
  async exists(): Promise<boolean> {
    for (const dir of this.dirs) if (await stat(dir).then(() => true, () => false)) return true;
    return false;
  }
}

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * An argv that moves itself into `cg` and then execs `argv`, so every descendant starts inside.
 * A failed join exits 125 without running anything (fail closed). Fds this process inherited
 * without close-on-exec, from `keepFdsBelow` up, are closed first so none reaches the sandbox.
 *
 * @example
 *   spawn('/bin/sh', joinAndExec(cg, ['/usr/bin/bwrap', …]).slice(1))
 */
export function joinAndExec(cg: Cgroup, argv: readonly string[], prelude: readonly string[] = [], options: { readonly keepFdsBelow?: number } = {}): string[] {
  return joinFilesAndExec(cg.joinFiles, argv, prelude, options);
}

/** joinAndExec for the files of Cgroup.joinFiles (dash is single-threaded: `0` moves all of it). */
export function joinFilesAndExec(files: readonly string[], argv: readonly string[], prelude: readonly string[] = [], options: { readonly keepFdsBelow?: number } = {}): string[] {
  const joins = files.map((f) => `echo 0 > ${shQuote(f)}`);
  const script = [...joins, ...prelude, 'exec "$@"'].join(' && ');
  const joiner = ['/bin/sh', '-c', `${script} || exit 125`, 'airlock-join', ...argv];
  const leaked = inheritableFds(options.keepFdsBelow ?? 3);
  if (leaked.length === 0) return joiner;
  // bash closes them (dash's redirections take one digit), then execs the same dash joiner, so
  // the prelude (ulimit, whose units differ between the two shells) always runs in dash.
  // --norc: bash would otherwise read ~/.bashrc when its stdin is a socket.
  return ['/bin/bash', '--norc', '--noprofile', '-c', `exec ${leaked.map((fd) => `${fd}>&-`).join(' ')} && exec "$@"`, 'airlock-close', ...joiner];
}
