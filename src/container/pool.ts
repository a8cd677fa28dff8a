/**
 * A small pool of sandboxes made ahead, per policy, so creating one costs a rename, not a launch.
 * Each ready sandbox is complete and unassigned: its own uid lease, directory, size-capped
 * workspace (mounted through one long-lived helper), cgroup with the policy's limits, and a
 * standby (src/container/standby.ts) whose namespaces, mounts and seccomp filter are already
 * built. Taking one renames its cgroup and directory to the tenant's names; it is never returned
 * or reused: destroy() removes it as always, and the pool makes a new one in the background.
 *
 * Nothing in a ready sandbox comes from a tenant; the policy it was built for is the same
 * document (by hash) the taker asked for. Only sandboxes the default driver launches, without
 * egress hooks, are pooled; anything else takes the one-shot path of createContainerSandbox.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { AirlockError } from '../core/errors.ts';
import { Cgroup } from '../os/cgroup.ts';
import { RUN_DIR, sandboxUids } from '../os/uids.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { bwrapDriver } from './drivers/bwrap.ts';
import type { Driver } from './drivers/driver.ts';
import { Mounter } from './mounter.ts';
import { HelperSpawner, type Spawner } from './spawner.ts';
import { hostParts, makeParts, renameParts, teardownParts, type HostParts, type PartNames, type SandboxParts } from './parts.ts';
import { compileSpec, containerGrants, type SpecInputs } from './spec.ts';
import { Standby, waiterArgs } from './standby.ts';

export interface ContainerPoolOptions {
  /** AIRLOCK_HOME: the seccomp program cache lives here. */
  readonly home: string;
  readonly runDir?: string;
  readonly uids?: { readonly first: number; readonly count: number };
  /** Ready sandboxes kept per policy (default 2). */
  readonly size?: number;
  /** Policies kept warm at once (default 4); the least recently used is dropped first. */
  readonly policies?: number;
  /**
   * Sandboxes made at once by the background refill (default: the host's cores). Making one is
   * mostly waiting on the kernel and on bubblewrap, so one at a time left cores idle and capped a
   * busy host at about 1 / (launch time) creates a second.
   */
  readonly refillConcurrency?: number;
}

/** What a taker gets: parts named for it, the spec inputs, and the standby for its first exec. */
export interface PooledParts {
  readonly parts: SandboxParts;
  readonly inputs: SpecInputs;
  readonly standby: Standby;
  readonly driver: Driver;
  readonly spawner: Spawner;
  /** Call once the sandbox is destroyed: the pool refills then (or after REFILL_DELAY_MS). */
  readonly destroyed: () => void;
}

/**
 * How long a take waits before refilling when its sandbox is not destroyed sooner. Refilling
 * forks and launches a sandbox; doing it while the taker's first exec runs would slow that exec
 * down on a small host, so it waits for the short one-shot case to end.
 */
const REFILL_DELAY_MS = 50;

interface Entry {
  readonly parts: SandboxParts;
  readonly inputs: SpecInputs;
  readonly standby: Standby;
}

interface Shape {
  readonly policy: CompiledPolicy;
  readonly ready: Entry[];
  /** Sandboxes the refill is making for this policy now (counted so that workers don't overfill). */
  making: number;
  /** Why the last background make failed; filling stops until a taker makes one itself. */
  failure: Error | undefined;
}

/**
 * @example
 *   await using pool = new ContainerPool({ home });
 *   const sbx = await createContainerSandbox({ tenant, sandboxId, policy, audit, home, pool });
 */
export class ContainerPool implements AsyncDisposable {
  readonly #home: string;
  readonly #runDir: string;
  readonly #uids: { readonly first: number; readonly count: number };
  readonly #size: number;
  readonly #policies: number;
  readonly #refillConcurrency: number;
  readonly #driver = bwrapDriver();
  readonly #mounter: Mounter;
  readonly #spawner = new HelperSpawner();
  readonly #shapes = new Map<string, Shape>();
  readonly #disposing = new Set<Promise<void>>();
  #host: Promise<HostParts> | undefined;
  readonly #fillers = new Set<Promise<void>>();
  #closed = false;

  constructor(options: ContainerPoolOptions) {
    this.#home = options.home;
    this.#runDir = options.runDir ?? RUN_DIR;
    this.#uids = options.uids ?? sandboxUids();
    this.#size = Math.max(0, Math.floor(options.size ?? 2));
    this.#policies = Math.max(1, Math.floor(options.policies ?? 4));
    this.#refillConcurrency = Math.max(1, Math.floor(options.refillConcurrency ?? availableParallelism()));
    this.#mounter = new Mounter(`${this.#runDir}/sandboxes`);
  }

  /** The host-wide parts, found once: preflight, cgroup layout, seccomp program, /etc. */
  #hostParts(): Promise<HostParts> {
    this.#host ??= (async () => {
      await this.#driver.preflight();
      const layout = await Cgroup.layout();
      return hostParts({ home: this.#home, runDir: this.#runDir, uids: this.#uids, mounter: this.#mounter, layout });
    })();
    // A failed preflight is not remembered: the next call checks the host again.
    this.#host.catch(() => (this.#host = undefined));
    return this.#host;
  }

  #shape(policy: CompiledPolicy): Shape {
    const found = this.#shapes.get(policy.hash);
    const shape = found ?? { policy, ready: [], making: 0, failure: undefined };
    // Most recently used last; the first is the one dropped.
    this.#shapes.delete(policy.hash);
    this.#shapes.set(policy.hash, shape);
    for (const [hash, old] of this.#shapes) {
      if (this.#shapes.size <= this.#policies) break;
      this.#shapes.delete(hash);
      for (const e of old.ready.splice(0)) void this.#dispose(e);
    }
    return shape;
  }

  async #make(host: HostParts, policy: CompiledPolicy, names: PartNames): Promise<Entry> {
    const parts = await makeParts(host, policy, names);
    const inputs: SpecInputs = { grants: containerGrants(policy), hostUid: parts.lease.uid, hostGid: parts.lease.gid, workspaceHostPath: parts.workspace.dir, workspaceViewPath: host.view, etcHostPath: host.etc, seccomp: host.seccomp, masks: host.masks, caBundle: parts.caBundle };
    try {
      const standby = await Standby.launch(compileSpec(policy, inputs, waiterArgs()), this.#driver, parts.cgroup, names.dir, this.#spawner);
      return { parts, inputs, standby };
    } catch (error) {
      await teardownParts(parts).catch(() => undefined);
      throw error;
    }
  }

  /** Removes a ready sandbox; close() waits for every removal still running. */
  #dispose(e: Entry): Promise<void> {
    const done = (async () => {
      await e.standby.discard().catch(() => undefined);
      await teardownParts(e.parts).catch(() => undefined);
    })();
    this.#disposing.add(done);
    void done.then(() => this.#disposing.delete(done));
    return done;
  }

  /**
   * A sandbox for `policy`, named `names`: a ready one renamed when there is one, else one made
   * now (its standby then finishes launching while the caller writes its files).
   */
  async take(policy: CompiledPolicy, names: PartNames): Promise<PooledParts> {
    if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this container pool was closed: create a new one');
    const host = await this.#hostParts();
    const shape = this.#shape(policy);
    for (let e = shape.ready.shift(); e !== undefined; e = shape.ready.shift()) {
      if (!e.standby.waiting) {
        void this.#dispose(e);
        continue;
      }
      let parts: SandboxParts;
      try {
        parts = await renameParts(host, e.parts, names);
      } catch (error) {
        void this.#dispose(e);
        void this.#fill();
        throw error;
      }
      return { parts, inputs: { ...e.inputs, workspaceHostPath: parts.workspace.dir, caBundle: parts.caBundle }, standby: e.standby, driver: this.#driver, spawner: this.#spawner, destroyed: this.#refillSoon() };
    }
    const made = await this.#make(host, policy, names);
    shape.failure = undefined;
    return { ...made, driver: this.#driver, spawner: this.#spawner, destroyed: this.#refillSoon() };
  }

  /** Refills after REFILL_DELAY_MS, or as soon as the returned function is called. */
  #refillSoon(): () => void {
    const timer = setTimeout(() => void this.#fill(), REFILL_DELAY_MS);
    timer.unref();
    return () => {
      clearTimeout(timer);
      void this.#fill();
    };
  }

  /**
   * The pool's long-lived process helper, for sandboxes made outside the pool (with egress) too:
   * a launch through it costs a fork, where node's spawn forks the host and a private workspace
   * view adds unshare(1), mount(8) and setpriv(1) execs.
   */
  get spawner(): Spawner {
    return this.#spawner;
  }

  /** Resolves once `policy` has its ready sandboxes (or making them failed: then it rejects). */
  async warm(policy: CompiledPolicy): Promise<void> {
    const shape = this.#shape(policy);
    shape.failure = undefined;
    // Read through a function: the filler sets it while this awaits.
    const failure = (): Error | undefined => shape.failure;
    for (;;) {
      if (this.#closed || shape.ready.length >= this.#size) return;
      const failed = failure();
      if (failed !== undefined) throw failed;
      await this.#fill();
    }
  }

  #isClosed(): boolean {
    return this.#closed;
  }

  /** The policy the refill should make a sandbox for next (most recently used first), if any. */
  #wanted(): Shape | undefined {
    if (this.#closed) return undefined;
    return [...this.#shapes.values()].reverse().find((s) => s.failure === undefined && s.ready.length + s.making < this.#size);
  }

  /**
   * Starts background fillers up to refillConcurrency, while there is something to make; each
   * makes one sandbox at a time. Resolves once every filler running now has stopped.
   */
  #fill(): Promise<void> {
    while (this.#fillers.size < this.#refillConcurrency && this.#wanted() !== undefined) {
      const run = this.#fillLoop();
      this.#fillers.add(run);
      void run.finally(() => this.#fillers.delete(run));
    }
    return Promise.all([...this.#fillers]).then(() => undefined);
  }

  async #fillLoop(): Promise<void> {
    for (let shape = this.#wanted(); shape !== undefined; shape = this.#wanted()) {
      shape.making++;
      try {
        const host = await this.#hostParts();
        const id = `pool_${randomUUID()}`;
        const e = await this.#make(host, shape.policy, { dir: id, cgroup: `pool.${id}` });
        if (!(await e.standby.ready())) {
          await this.#dispose(e);
          const said = e.standby.early.trim();
          throw new AirlockError('SANDBOX_UNAVAILABLE', `a pooled sandbox ended before its command: the driver failed at set-up${said === '' ? '' : ` (${said.slice(0, 500)})`}`);
        }
        // The pool may have closed, or dropped this policy, while the sandbox was being made.
        if (this.#isClosed() || this.#shapes.get(shape.policy.hash) !== shape) void this.#dispose(e);
        else shape.ready.push(e);
      } catch (error) {
        shape.failure = error instanceof Error ? error : new Error(String(error));
      } finally {
        shape.making--;
      }
    }
  }

  /** Removes every ready sandbox and stops the helpers (a later request restarts one). Taken sandboxes are their owners'. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#fillers]);
    const entries = [...this.#shapes.values()].flatMap((s) => s.ready.splice(0));
    this.#shapes.clear();
    await Promise.all(entries.map((e) => this.#dispose(e)));
    await Promise.all([...this.#disposing]);
    this.#mounter.close();
    this.#spawner.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
