/**
 * A run's denial budget on the isolate tier (limits.denials, counted by src/policy/denials.ts):
 * tool calls and fetches denied, whatever the reason, each spend one. The denial that spends it
 * stops the run, which then ends LIMIT_DENIALS; denials after that are refused unrecorded.
 */
import { denialsSpentMessage, spendDenial, type DenialVerdict } from '../policy/denials.ts';

export class RunDenials {
  readonly #limit: number;
  readonly #stopRun: () => void;
  #spent = 0;

  constructor(limit: number, stopRun: () => void) {
    this.#limit = limit;
    this.#stopRun = stopRun;
  }

  /** Spends one denial; the one past the budget stops the run. */
  spend(): DenialVerdict {
    const { spent, verdict } = spendDenial(this.#limit, this.#spent);
    this.#spent = spent;
    if (verdict === 'stop') this.#stopRun();
    return verdict;
  }

  /** Whether this run was stopped for its denials. */
  get stopped(): boolean {
    return this.#spent > this.#limit;
  }

  get message(): string {
    return denialsSpentMessage(this.#limit);
  }
}
