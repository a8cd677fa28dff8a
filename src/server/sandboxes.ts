/**
 * The container sandboxes the HTTP API made, by tenant. A lookup names the tenant (the caller's key's)
 * and the id; another tenant's sandbox is answered exactly like one that does not exist (NOT_FOUND),
 * so ids can't be probed across tenants. One table per server, closed with it.
 *
 * @example
 *   const live = table.add(box);
 *   table.get(caller.tenant, id).box.writeFile('main.py', code);
 */
import type { ContainerSandbox } from '../container/index.ts';
import { AirlockError } from '../core/errors.ts';
import type { CommandRecord } from './commands.ts';

/** Ended commands kept per sandbox for reattaching; the oldest go first. */
const KEPT_COMMANDS = 32;

export interface LiveSandbox {
  readonly box: ContainerSandbox;
  readonly createdAt: string;
  /** The limits it was made with: its policy's, the defaults for the rest. */
  readonly limits: Readonly<Record<string, number>>;
  readonly commands: Map<string, CommandRecord>;
}

function notFound(what: string, id: string): AirlockError {
  return new AirlockError('NOT_FOUND', `no ${what} ${JSON.stringify(id.slice(0, 100))} in your tenant: list yours with GET /v1/sandboxes`);
}

export class SandboxTable {
  readonly #byTenant = new Map<string, Map<string, LiveSandbox>>();

  add(box: ContainerSandbox, limits: Readonly<Record<string, number>>): LiveSandbox {
    const live: LiveSandbox = { box, createdAt: new Date().toISOString(), limits, commands: new Map() };
    const mine = this.#byTenant.get(box.tenant) ?? new Map<string, LiveSandbox>();
    mine.set(box.id, live);
    this.#byTenant.set(box.tenant, mine);
    return live;
  }

  /** The tenant's sandbox `id`, or NOT_FOUND (also when it is another tenant's). */
  get(tenant: string, id: string): LiveSandbox {
    const live = this.#byTenant.get(tenant)?.get(id);
    if (live?.box.tenant !== tenant) throw notFound('sandbox', id);
    return live;
  }

  list(tenant: string): (LiveSandbox & { readonly id: string })[] {
    return [...(this.#byTenant.get(tenant)?.entries() ?? [])].map(([id, live]) => ({ ...live, id }));
  }

  /** Takes the tenant's sandbox out of the table (before it is destroyed), or NOT_FOUND. */
  remove(tenant: string, id: string): LiveSandbox {
    const live = this.get(tenant, id);
    const mine = this.#byTenant.get(tenant);
    mine?.delete(id);
    if (mine?.size === 0) this.#byTenant.delete(tenant);
    return live;
  }

  /**
   * Runs `op` on the tenant's sandbox `id`. A sandbox its idle timeout or lifetime destroyed answers
   * SANDBOX_CLOSED (409) once, and leaves the table then, so dead entries don't pile up.
   */
  async use<T>(tenant: string, id: string, op: (live: LiveSandbox) => Promise<T>): Promise<T> {
    const live = this.get(tenant, id);
    try {
      return await op(live);
    } catch (error) {
      this.forgetIfClosed(tenant, id, error);
      throw error;
    }
  }

  /** Drops the entry when `error` says the sandbox is gone (SANDBOX_CLOSED). */
  forgetIfClosed(tenant: string, id: string, error: unknown): void {
    if (error instanceof AirlockError && error.code === 'SANDBOX_CLOSED' && this.#byTenant.get(tenant)?.has(id) === true) this.remove(tenant, id);
  }

  /** The tenant's command `cmd` in sandbox `id`, or NOT_FOUND. */
  command(tenant: string, id: string, cmd: string): CommandRecord {
    const record = this.get(tenant, id).commands.get(cmd);
    if (record === undefined) throw notFound('command', cmd);
    return record;
  }

  /** Keeps a new command, letting go of the oldest ended ones past KEPT_COMMANDS. */
  keep(live: LiveSandbox, record: CommandRecord): void {
    live.commands.set(record.id, record);
    for (const [id, old] of live.commands) {
      if (live.commands.size <= KEPT_COMMANDS) break;
      if (old.done) live.commands.delete(id);
    }
  }
}
