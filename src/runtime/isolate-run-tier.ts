/**
 * The isolate tier behind the runtime's tier interface. Its sandbox is only a name: the worker that
 * runs it is the tenant's, pooled by the isolate tier, and every run gets a fresh isolate there.
 */
import type { ValidateFunction } from 'ajv';
import { AirlockError } from '../core/errors.ts';
import type { TierResult, Violation } from '../core/result.ts';
import { PreparedCodeCache } from '../isolate/prepared-cache.ts';
import type { IsolateRun, IsolateTier } from '../isolate/tier.ts';
import { plainInput } from '../policy/request.ts';
import type { BoundedCache } from './bounded-cache.ts';
import { resultCheck } from './result-check.ts';
import { runStarted, type RunStarted } from './run-events.ts';
import type { RunInput, RunTier, SandboxOf } from './tier.ts';
import { chooseTier } from './tier-choice.ts';

export type PreparedIsolateRun = IsolateRun & { readonly started: RunStarted };

export interface IsolateBox {
  readonly sandbox: string;
}

const NONE: readonly Violation[] = [];

export class IsolateRunTier implements RunTier<PreparedIsolateRun, IsolateBox> {
  readonly name = 'isolate';
  readonly #isolate: IsolateTier;
  readonly #schemas: BoundedCache<ValidateFunction>;
  readonly #prepared = new PreparedCodeCache();

  constructor(isolate: IsolateTier, schemas: BoundedCache<ValidateFunction>) {
    this.#isolate = isolate;
    this.#schemas = schemas;
  }

  /** Language, size, UTF-8, syntax, input and result schema; run.started records the code as given. */
  prepare(run: RunInput): PreparedIsolateRun {
    const { id, tenant, sandbox, policy, language } = run;
    chooseTier({ tier: 'isolate', language });
    if (language !== 'js' && language !== 'ts' && language !== 'wasm') throw new AirlockError('INTERNAL', `${language} passed the isolate tier's language check`);
    const code = this.#prepared.prepare(tenant, run.code, language, policy.limits.codeBytes);
    const input = plainInput(run.input);
    const checkResult = resultCheck(run.resultSchema, this.#schemas, tenant);
    const started = runStarted({ id, tenant, sandbox, policy, code: code.original, language, authority: run.authority ?? null, parent: run.parent }, 'isolate', run.tierReason);
    return { id, tenant, sandbox, policy, code, input, checkResult, started, authority: run.authority ?? null, delegation: run.delegation, budget: run.budget, lane: run.lane };
  }

  create(of: SandboxOf): Promise<IsolateBox> {
    return Promise.resolve({ sandbox: of.sandbox });
  }

  run(_box: IsolateBox, prepared: PreparedIsolateRun): Promise<TierResult> {
    return this.#isolate.run(prepared);
  }

  /** Nothing to remove: the isolate was disposed when its run ended. Denials are in the run's result. */
  destroy(): Promise<readonly Violation[]> {
    return Promise.resolve(NONE);
  }
}
