/**
 * Isolate workers, pooled per tenant and never shared across tenants. Each tenant gets up to
 * `perTenant` workers per lane: lane 0 runs top-level runs, lane d sub-runs nested d deep (a
 * parent keeps its worker while its child runs, so a child drawing from its parent's lane could
 * wait forever; at most 1 + SUBRUN_MAX_DEPTH lanes, started only when used). An idle one is handed out oldest-idle first, so a worker refilling its
 * spare isolates after a run is not the one asked for the next run. A dead worker is dropped and
 * replaced in the background.
 */
import { AirlockError } from '../core/errors.ts';
import { WorkerProcess, type WorkerEnv } from './worker-process.ts';

interface TenantWorkers {
  readonly tenant: string;
  readonly idle: WorkerProcess[];
  readonly all: Set<WorkerProcess>;
  readonly waiters: ((worker: WorkerProcess | Error) => void)[];
  starting: number;
}

export class WorkerPool {
  readonly #env: () => Promise<WorkerEnv>;
  readonly #perTenant: number;
  /** By tenant and lane (`tenant\nlane`): lane 0 serves top-level runs, lane d sub-runs nested d deep. */
  readonly #tenants = new Map<string, TenantWorkers>();
  readonly #laneOf = new WeakMap<WorkerProcess, TenantWorkers>();
  #closed = false;

  constructor(env: () => Promise<WorkerEnv>, options: { perTenant: number }) {
    this.#env = env;
    this.#perTenant = options.perTenant;
  }

  #tenant(tenant: string, lane = 0): TenantWorkers {
    const key = `${tenant}\n${lane}`;
    let t = this.#tenants.get(key);
    if (t === undefined) {
      t = { tenant, idle: [], all: new Set(), waiters: [], starting: 0 };
      this.#tenants.set(key, t);
    }
    return t;
  }

  /** Starts workers for a tenant ahead of its first run. */
  async prewarm(tenant: string, count: number = this.#perTenant): Promise<void> {
    const t = this.#tenant(tenant);
    const want = Math.min(count, this.#perTenant) - t.all.size - t.starting;
    const started: Promise<void>[] = [];
    for (let i = 0; i < want; i++) started.push(this.#start(tenant, t));
    await Promise.all(started);
  }

  async #start(tenant: string, t: TenantWorkers): Promise<void> {
    t.starting++;
    try {
      const worker = await WorkerProcess.start(tenant, await this.#env());
      t.all.add(worker);
      this.#laneOf.set(worker, t);
      void worker.exited.then(() => this.#drop(worker, t));
      if (this.#closed) {
        await worker.close();
        return;
      }
      this.#hand(worker, t);
    } catch (error) {
      const waiter = t.waiters.shift();
      if (waiter !== undefined) waiter(error as Error);
      else throw error;
    } finally {
      t.starting--;
    }
  }

  #hand(worker: WorkerProcess, t: TenantWorkers): void {
    const waiter = t.waiters.shift();
    if (waiter !== undefined) waiter(worker);
    else t.idle.push(worker);
  }

  #drop(worker: WorkerProcess, t: TenantWorkers): void {
    t.all.delete(worker);
    const at = t.idle.indexOf(worker);
    if (at >= 0) t.idle.splice(at, 1);
    if (!this.#closed && t.waiters.length > t.starting) void this.#start(t.tenant, t).catch(() => undefined);
  }

  /** A ready worker of this tenant's lane: idle, newly started, or the next one released. */
  acquire(tenant: string, lane = 0): Promise<WorkerProcess> {
    if (this.#closed) return Promise.reject(new AirlockError('SANDBOX_CLOSED', 'this airlock was closed: create a new one'));
    const t = this.#tenant(tenant, lane);
    for (;;) {
      const worker = t.idle.shift();
      if (worker === undefined) break;
      if (worker.alive) return Promise.resolve(worker);
    }
    return new Promise((resolve, reject) => {
      t.waiters.push((w) => (w instanceof Error ? reject(w) : resolve(w)));
      if (t.all.size + t.starting < this.#perTenant) void this.#start(tenant, t).catch(() => undefined);
    });
  }

  release(worker: WorkerProcess): void {
    const t = this.#laneOf.get(worker);
    if (t === undefined || !worker.alive || this.#closed) return;
    this.#hand(worker, t);
  }

  /** Every live worker, for tests and for the reaper's bookkeeping. */
  workers(tenant?: string): WorkerProcess[] {
    const lists = [...this.#tenants.values()].filter((t) => tenant === undefined || t.tenant === tenant);
    return lists.flatMap((t) => [...t.all]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = this.workers();
    for (const t of this.#tenants.values()) {
      for (const w of t.waiters.splice(0)) w(new AirlockError('STOPPED_BY_HOST', 'airlock was closed while the run waited for a worker: it was stopped before it began'));
    }
    await Promise.all(all.map((w) => w.close()));
  }
}
