/** The one result shape every tier and every front end returns (ARCHITECTURE.md, "Contracts"). */
import type { ErrorCode } from './errors.ts';
import type { RunStatus } from './status.ts';

export { RUN_STATUSES, type RunStatus } from './status.ts';

export type Tier = 'isolate' | 'container';

/** A door the run knocked on and was refused. */
export interface Violation {
  readonly door: 'tool' | 'network' | 'file' | 'limit';
  readonly detail: string;
  readonly code: ErrorCode;
}

export interface Usage {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly memoryBytes: number;
}

/** What a tier returns for one run; the runtime adds why that tier ran it (RunResult). */
export interface TierResult {
  readonly id: string;
  readonly tier: Tier;
  readonly status: RunStatus;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly result: unknown;
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  readonly usage: Usage;
  readonly violations: readonly Violation[];
}

export interface RunResult extends TierResult {
  /** Why this tier ran it: the language or a grant only it serves, or the caller's choice (ARCHITECTURE.md). */
  readonly tierReason: string;
}
