/**
 * A tier as the runtime drives it: `prepare` checks a run before any sandbox exists, `create`
 * makes its sandbox, `run` runs it there, `destroy` removes the sandbox. The runtime owns the rest
 * and does it the same way for every tier (runtime/airlock.ts, `#oneShot`): admission and quotas,
 * the four lifecycle events (sandbox.created, run.started, run.ended, sandbox.destroyed), the
 * result's tierReason, and how a refusal is recorded. A tier writes no lifecycle event itself.
 *
 * @example
 *   const prepared = tier.prepare(input);          // throws CODE_TOO_LARGE, SYNTAX_ERROR, …
 *   const box = await tier.create(input);
 *   const result = await tier.run(box, prepared);
 *   const more = await tier.destroy(box);           // denials recorded for the sandbox meanwhile
 */
import type { Tier, TierResult, Violation } from '../core/result.ts';
import type { CallBudget, DelegationDoor } from '../isolate/tool-bridge.ts';
import type { CallAuthority } from '../policy/authority.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { Language } from '../policy/request.ts';
import type { RunStarted } from './run-events.ts';

export interface SandboxOf {
  readonly tenant: string;
  readonly sandbox: string;
  readonly policy: CompiledPolicy;
  /** The run's warrant and labels (policy/authority.ts); null: the policy alone decides. */
  readonly authority?: CallAuthority | null;
}

/** One run as the runtime hands it to a tier: ids chosen, policy compiled, tier chosen. */
export interface RunInput extends SandboxOf {
  readonly id: string;
  readonly code: string | Uint8Array;
  readonly language: Language;
  readonly input?: unknown;
  readonly resultSchema?: Readonly<Record<string, unknown>> | undefined;
  readonly tierReason: string;
  /** A sub-run's: the run that started it (recorded on run.started), its nesting, its doors. */
  readonly parent?: string | undefined;
  readonly lane?: number | undefined;
  readonly delegation?: DelegationDoor | undefined;
  readonly budget?: CallBudget | undefined;
}

/** A run a tier has checked: what its run.started records, and what the tier needs to run it. */
export interface Prepared {
  readonly started: RunStarted;
}

export interface RunTier<P extends Prepared, Box> {
  readonly name: Tier;
  /** Checks the run before any sandbox exists; throws its coded refusal. */
  prepare(input: RunInput): P;
  create(of: SandboxOf): Promise<Box>;
  /** Runs a prepared run; a failure the tier can't turn into a result is thrown. */
  run(box: Box, prepared: P): Promise<TierResult>;
  /**
   * Removes the sandbox; resolves once nothing of it is left. Resolves with the denials recorded
   * for the sandbox that the run's result does not hold already (a container's egress denials).
   */
  destroy(box: Box): Promise<readonly Violation[]>;
}
