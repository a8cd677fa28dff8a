/**
 * The denial budget (limits.denials): every denied knock on a door (a tool call, an egress
 * request) spends one, so a run that floods doors it was not granted is stopped instead of
 * growing the host's memory and the audit log without end. Pure: the caller keeps the count.
 *
 * Like limits.toolCalls: the denials within the budget are recorded as usual; the one past it is
 * recorded as LIMIT_DENIALS and stops the run; any that still arrive are refused unrecorded.
 */

export type DenialVerdict =
  /** Within the budget: deny and record as usual. */
  | 'within'
  /** This denial spent the budget: record it as LIMIT_DENIALS and stop the run. */
  | 'stop'
  /** The run was already stopped: refuse without a record. */
  | 'stopped';

/**
 * One more denial against `limit`, `spentBefore` having been spent.
 *
 * @example
 *   spendDenial(2, 0) // { spent: 1, verdict: 'within' }
 *   spendDenial(2, 2) // { spent: 3, verdict: 'stop' }
 *   spendDenial(2, 3) // { spent: 4, verdict: 'stopped' }
 */
export function spendDenial(limit: number, spentBefore: number): { readonly spent: number; readonly verdict: DenialVerdict } {
  const spent = spentBefore + 1;
  return { spent, verdict: spent <= limit ? 'within' : spent === limit + 1 ? 'stop' : 'stopped' };
}

/** The message a run stopped by its denial budget carries. */
export function denialsSpentMessage(limit: number): string {
  return `the run was denied more than limits.denials (${limit}) times and was stopped: ask only for what the policy grants, or raise limits.denials`;
}
