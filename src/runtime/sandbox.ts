/**
 * A sandbox: one tenant, one compiled policy, any number of runs, each in a fresh isolate.
 * Creation and destruction are paired by construction: `await using sb = await airlock.sandbox(…)`.
 */
import type { RunResult, Tier } from '../core/result.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { Language } from '../policy/request.ts';

export interface SandboxRunOptions {
  readonly language?: Language;
  readonly input?: unknown;
  readonly resultSchema?: Readonly<Record<string, unknown>>;
}

export interface SandboxHost {
  runIn(sandbox: Sandbox, code: string | Uint8Array, options: SandboxRunOptions): Promise<RunResult>;
  destroyed(sandbox: Sandbox, reason: string): void;
}

export class Sandbox {
  readonly id: string;
  readonly tenant: string;
  readonly tier: Tier;
  readonly policy: CompiledPolicy;
  /** The warrant each of its runs acts under (verified again at each run: it may have expired or been revoked). */
  readonly warrant: string | undefined;
  readonly #host: SandboxHost;
  #open = true;

  constructor(init: { id: string; tenant: string; tier: Tier; policy: CompiledPolicy; host: SandboxHost; warrant?: string | undefined }) {
    this.id = init.id;
    this.tenant = init.tenant;
    this.tier = init.tier;
    this.policy = init.policy;
    this.#host = init.host;
    this.warrant = init.warrant;
  }

  get open(): boolean {
    return this.#open;
  }

  /**
   * Runs code in a fresh isolate under this sandbox's policy.
   * @example
   *   const r = await sb.run('export default async () => (await tools.lookup({ id: 7 })).name');
   */
  run(code: string | Uint8Array, options: SandboxRunOptions = {}): Promise<RunResult> {
    return this.#host.runIn(this, code, options);
  }

  /** Ends the sandbox; later runs report SANDBOX_CLOSED. Safe to call twice. */
  destroy(): Promise<void> {
    if (this.#open) {
      this.#open = false;
      this.#host.destroyed(this, 'destroyed by its owner');
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }
}
