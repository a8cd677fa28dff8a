/**
 * A run's denial budget on the isolate tier (limits.denials, counted by src/policy/denials.ts):
 * tool calls and fetches denied, whatever the reason, each spend one. The denial that spends it
 * stops the run, which then ends LIMIT_DENIALS; denials after that are refused unrecorded.
 */
import type { CompiledPolicy } from '../policy/compile.ts';
import { spendDenial, type DenialVerdict } from '../policy/denials.ts';

export class RunDenials {
  readonly #policy: CompiledPolicy;
  readonly #stopRun: () => void;
  #spent = 0;
  #message = '';

  constructor(policy: CompiledPolicy, stopRun: () => void) {
    this.#policy = policy;
    this.#stopRun = stopRun;
  }

  /** Spends one denial; the one past the budget stops the run. */
  spend(): DenialVerdict {
    const { spent, verdict, message } = spendDenial(this.#policy, this.#spent);
    this.#spent = spent;
    if (message !== null) this.#message = message;
    if (verdict === 'stop') this.#stopRun();
    return verdict;
  }

  /** Whether this run was stopped for its denials. */
  get stopped(): boolean {
    return this.#spent > this.#policy.limits.denials;
  }

  /** Why it was stopped, as decide() said it (empty while it was not). */
  get message(): string {
    return this.#message;
  }
}
