/**
 * Isolate workers, pooled per owner and lane. An owner is one tenant (the default: its workers
 * serve no one else) or one trust cordon the host named (its tenants share its workers; each run
 * still gets a fresh isolate). Workers are grown on demand, up to `perTenant` or `perCordon` per
 * lane, and retired when idle for `idleMs`; `maxWorkers` caps the processes of the whole host: past it, a start
 * retires the least recently used idle worker of another owner, or waits for one.
 *
 * Lane 0 runs top-level runs, lane d sub-runs nested d deep (a parent keeps its worker while its
 * child runs, so a child drawing from its parent's lane could wait forever). For the same reason a
 * sub-run lane may start a worker past the cap: its parents hold their workers while they wait,
 * so a full host of waiting parents would otherwise never finish; such a worker is retired as
 * soon as it is idle. An idle worker is handed out oldest-idle first, so a worker refilling its
 * spare isolates after a run is not the one asked for the next run. A dead worker is dropped and
 * replaced in the background when runs are waiting.
 */
import { AirlockError } from '../core/errors.ts';
import { WorkerProcess, type WorkerEnv } from './worker-process.ts';

/** Whose workers: one tenant's own, or one cordon's, shared by the tenants the host put in it. */
export type WorkerOwner = { readonly kind: 'tenant'; readonly tenant: string } | { readonly kind: 'cordon'; readonly cordon: string };

export interface PoolOptions {
  /** Workers per tenant and lane. */
  readonly perTenant: number;
  /** Workers per cordon and lane: a cordon's many tenants run more runs at once than one tenant. */
  readonly perCordon: number;
  /** Worker processes of the whole pool (sub-run lanes may exceed it while their parents wait). */
  readonly maxWorkers: number;
  /** An idle worker is retired after this long. */
  readonly idleMs: number;
  /**
   * Worker starts in flight at once, host-wide. A start costs hundreds of ms of CPU: twenty at once
   * on two cores each took so long that some passed their start-up deadline and failed their runs.
   */
  readonly maxStarting: number;
}

interface Group {
  readonly key: string;
  readonly owner: WorkerOwner;
  readonly lane: number;
  readonly idle: WorkerProcess[];
  readonly all: Set<WorkerProcess>;
  readonly waiters: ((worker: WorkerProcess | Error) => void)[];
  starting: number;
}

/** The label a worker carries (its cgroup's name, `WorkerProcess.tenant`). */
export function ownerLabel(owner: WorkerOwner): string {
  return owner.kind === 'tenant' ? owner.tenant : `cordon-${owner.cordon}`;
}

const ownerKey = (owner: WorkerOwner): string => (owner.kind === 'tenant' ? `t\n${owner.tenant}` : `c\n${owner.cordon}`);
const size = (g: Group): number => g.all.size + g.starting;

export class WorkerPool {
  readonly #env: () => Promise<WorkerEnv>;
  readonly #options: PoolOptions;
  /** By owner and lane (`key\nlane`). */
  readonly #groups = new Map<string, Group>();
  readonly #groupOf = new WeakMap<WorkerProcess, Group>();
  /** Idle workers in the order they went idle (a Map keeps insertion order): the first is the least recently used. */
  readonly #idle = new Map<WorkerProcess, NodeJS.Timeout>();
  /** Groups with runs waiting that could not start a worker for the cap, first come first served. */
  readonly #wanting = new Set<Group>();
  /** Workers alive or starting, in every group. */
  #count = 0;
  /** Starts in flight, in every group. */
  #starting = 0;
  #closed = false;

  constructor(env: () => Promise<WorkerEnv>, options: PoolOptions) {
    this.#env = env;
    this.#options = options;
  }

  #group(owner: WorkerOwner, lane: number): Group {
    const key = `${ownerKey(owner)}\n${lane}`;
    let g = this.#groups.get(key);
    if (g === undefined) {
      g = { key, owner, lane, idle: [], all: new Set(), waiters: [], starting: 0 };
      this.#groups.set(key, g);
    }
    return g;
  }

  #share(g: Group): number {
    return g.owner.kind === 'cordon' ? this.#options.perCordon : this.#options.perTenant;
  }

  /** Starts workers for an owner's top-level runs ahead of its first run (within the cap). */
  async prewarm(owner: WorkerOwner, count?: number): Promise<void> {
    const g = this.#group(owner, 0);
    const want = Math.min(count ?? this.#share(g), this.#share(g)) - size(g);
    const started: Promise<void>[] = [];
    for (let i = 0; i < want && this.#count < this.#options.maxWorkers; i++) started.push(this.#start(g));
    await Promise.all(started);
  }

  async #start(g: Group): Promise<void> {
    g.starting++;
    this.#starting++;
    this.#count++;
    let worker: WorkerProcess;
    try {
      worker = await WorkerProcess.start(ownerLabel(g.owner), await this.#env());
    } catch (error) {
      g.starting--;
      this.#starting--;
      this.#count--;
      const waiter = g.waiters.shift();
      if (waiter !== undefined) waiter(error as Error);
      this.#pump();
      if (waiter === undefined) throw error;
      return;
    }
    g.starting--;
    this.#starting--;
    // The start slot it held is free: the next owner waiting for one goes on (after this worker is handed out).
    queueMicrotask(() => this.#pump());
    g.all.add(worker);
    this.#groupOf.set(worker, g);
    void worker.exited.then(() => this.#drop(worker));
    if (this.#closed) {
      await worker.close();
      return;
    }
    this.#hand(worker, g);
  }

  /**
   * Starts a worker for `g` if it has runs waiting beyond the workers already starting, within its
   * share and the cap. At the cap, an owner with no worker at all (starving) takes the room of the
   * least recently used idle worker of another owner; one that has a worker waits for room, since
   * a start costs far more CPU than a run: trading workers among busy owners would spend the host
   * on starts.
   */
  #grow(g: Group): void {
    if (this.#closed || g.waiters.length <= g.starting || size(g) >= this.#share(g)) {
      this.#wanting.delete(g);
      return;
    }
    if (this.#starting >= this.#options.maxStarting) {
      this.#wanting.add(g);
      return;
    }
    if (g.lane > 0 || this.#count < this.#options.maxWorkers || (size(g) === 0 && this.#retireIdleOutside(g))) {
      this.#wanting.delete(g);
      void this.#start(g).catch(() => undefined);
      return;
    }
    this.#wanting.add(g);
  }

  /** An owner other than `g` with runs waiting and no worker, held back by the cap (not merely waiting for a start slot). */
  #starving(g: Group): Group | undefined {
    if (this.#count < this.#options.maxWorkers) return undefined;
    for (const w of this.#wanting) if (w !== g && size(w) === 0 && w.waiters.length > 0) return w;
    return undefined;
  }

  /** Retires the least recently used idle worker of another group; false when there is none. */
  #retireIdleOutside(g: Group): boolean {
    for (const worker of this.#idle.keys()) {
      if (this.#groupOf.get(worker) === g) continue;
      this.#retire(worker);
      return true;
    }
    return false;
  }

  /** Gives waiting groups the room a retired, dead or failed worker left: starving ones first. */
  #pump(): void {
    const order = [...this.#wanting].sort((a, b) => Number(size(a) > 0) - Number(size(b) > 0));
    for (const g of order) {
      if (this.#starting >= this.#options.maxStarting) return;
      this.#grow(g);
    }
  }

  #hand(worker: WorkerProcess, g: Group): void {
    const waiter = g.waiters.shift();
    if (waiter !== undefined) {
      waiter(worker);
      return;
    }
    // Over the cap (a sub-run lane's extra), or an owner without a worker waits: the room goes back now.
    if (this.#count > this.#options.maxWorkers || this.#starving(g) !== undefined) {
      this.#retire(worker);
      this.#pump();
      return;
    }
    g.idle.push(worker);
    const timer = setTimeout(() => {
      this.#retire(worker);
      this.#pump();
    }, this.#options.idleMs);
    timer.unref();
    this.#idle.set(worker, timer);
  }

  /** Takes a worker out of the pool for good and frees its room at once (the caller gives it on); its process ends in the background. */
  #retire(worker: WorkerProcess): void {
    this.#forget(worker);
    void worker.close();
  }

  /** Removes a worker from its group's books; false when it was already gone. */
  #forget(worker: WorkerProcess): boolean {
    const g = this.#groupOf.get(worker);
    if (g === undefined || !g.all.delete(worker)) return false;
    this.#count--;
    clearTimeout(this.#idle.get(worker));
    this.#idle.delete(worker);
    const at = g.idle.indexOf(worker);
    if (at >= 0) g.idle.splice(at, 1);
    // Thousands of tenants come and go: an owner with nothing left has no entry left either.
    if (size(g) === 0 && g.waiters.length === 0 && this.#groups.get(g.key) === g) {
      this.#groups.delete(g.key);
      this.#wanting.delete(g);
    }
    return true;
  }

  #drop(worker: WorkerProcess): void {
    const g = this.#groupOf.get(worker);
    if (!this.#forget(worker) || g === undefined || this.#closed) return;
    this.#grow(g);
    this.#pump();
  }

  /** A ready worker of this owner's lane: idle, newly started, or the next one released. */
  acquire(owner: WorkerOwner, lane = 0): Promise<WorkerProcess> {
    if (this.#closed) return Promise.reject(new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: create a new one'));
    const g = this.#group(owner, lane);
    for (;;) {
      const worker = g.idle.shift();
      if (worker === undefined) break;
      clearTimeout(this.#idle.get(worker));
      this.#idle.delete(worker);
      if (worker.alive) return Promise.resolve(worker);
    }
    return new Promise((resolve, reject) => {
      g.waiters.push((w) => (w instanceof Error ? reject(w) : resolve(w)));
      this.#grow(g);
    });
  }

  /**
   * Back from a run. An owner starving for the cap (runs waiting, no worker at all) takes this
   * worker's room even when this owner has runs waiting: every owner keeps moving. (With more busy
   * owners than the cap allows workers, that trades workers among them: raise maxWorkers.)
   */
  release(worker: WorkerProcess): void {
    const g = this.#groupOf.get(worker);
    if (g === undefined || !worker.alive || this.#closed) return;
    if (g.waiters.length > 0 && this.#starving(g) !== undefined) {
      this.#retire(worker);
      this.#pump();
      this.#grow(g);
      return;
    }
    this.#hand(worker, g);
  }

  /** Live workers of one owner (every lane), or of all. */
  workers(owner?: WorkerOwner): WorkerProcess[] {
    const key = owner === undefined ? undefined : `${ownerKey(owner)}\n`;
    return [...this.#groups.entries()].filter(([k]) => key === undefined || k.startsWith(key)).flatMap(([, g]) => [...g.all]);
  }

  ownerOf(worker: WorkerProcess): WorkerOwner | undefined {
    return this.#groupOf.get(worker)?.owner;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = this.workers();
    for (const g of this.#groups.values()) {
      for (const w of g.waiters.splice(0)) w(new AirlockError('STOPPED_BY_HOST', 'airlock was closed while the run waited for a worker: it was stopped before it began'));
    }
    for (const timer of this.#idle.values()) clearTimeout(timer);
    this.#idle.clear();
    await Promise.all(all.map((w) => w.close()));
  }
}
