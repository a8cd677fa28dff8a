/**
 * The denial budget (limits.denials): every denied knock on a door (a tool call, an egress
 * request) spends one, so a run that floods doors it was not granted is stopped instead of
 * growing the host's memory and the audit log without end. Pure: the caller keeps the count.
 *
 * Like limits.toolCalls: the denials within the budget are recorded as usual; the one past it is
 * recorded as LIMIT_DENIALS and stops the run; any that still arrive are refused unrecorded.
 */
import type { CompiledPolicy } from './compile.ts';
import { decide } from './decide.ts';


export type DenialVerdict =
  /** Within the budget: deny and record as usual. */
  | 'within'
  /** This denial spent the budget: record it as LIMIT_DENIALS and stop the run. */
  | 'stop'
  /** The run was already stopped: refuse without a record. */
  | 'stopped';

/**
 * One more denial under `policy` (limits.denials), `spentBefore` having been spent.
 *
 * @example
 *   spendDenial(policy, 0) // { spent: 1, verdict: 'within', message: null } with limits.denials 2
 *   spendDenial(policy, 2) // { spent: 3, verdict: 'stop', message: 'the run was denied more than …' }
 *   spendDenial(policy, 3) // { spent: 4, verdict: 'stopped', message: … }
 */
export function spendDenial(policy: CompiledPolicy, spentBefore: number): { readonly spent: number; readonly verdict: DenialVerdict; readonly message: string | null } {
  const decision = decide(policy, { door: 'denials', spentBefore });
  const spent = spentBefore + 1;
  if (decision.allow) return { spent, verdict: 'within', message: null };
  return { spent, verdict: spentBefore === policy.limits.denials ? 'stop' : 'stopped', message: decision.message };
}

/** What a run stopped by its denial budget is told: decide()'s message for the denial past it. */
export function denialsSpentMessage(policy: CompiledPolicy): string {
  const decision = decide(policy, { door: 'denials', spentBefore: policy.limits.denials });
  return decision.allow ? 'the run was stopped for its denials' : decision.message;
}
