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
/** One atom of an information-flow label, as results and the audit log carry it (docs/labels.md). */
export interface LabelAtom {
  readonly source: string;
  readonly readers: '*' | string[];
  readonly integrity: 'trusted' | 'untrusted';
}

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
  /**
   * What the run read, as its information-flow label (docs/labels.md): one atom per source, with
   * its readers and integrity. Present when the host keeps labels.
   */
  readonly label?: readonly LabelAtom[];
}

export interface RunResult extends TierResult {
  /** Why this tier ran it: the language or a grant only it serves, or the caller's choice (ARCHITECTURE.md). */
  readonly tierReason: string;
}
