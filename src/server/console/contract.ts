/**
 * The shapes the console reads from the /v1 API (docs: /openapi.json; the console-api contract).
 * Everything in them that a guest could have written — code, output, error messages, tool
 * arguments, targets, reasons — is only ever rendered as text (see format.ts).
 */

export type RunStatus = 'ok' | 'error' | 'running';

export interface RunSummary {
  readonly id: string;
  readonly tier: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly errorCode: string | null;
  readonly denials: number;
  readonly tools: readonly string[];
  readonly deniedCodes: readonly string[];
  readonly label: readonly string[] | null;
}

export interface RunPage {
  readonly runs: readonly RunSummary[];
  readonly next: string | null;
}

export interface Decision {
  readonly seq: number;
  readonly at: string;
  readonly door: string;
  readonly target: string;
  readonly verdict: 'allow' | 'deny';
  readonly code: string | null;
  readonly reason: string | null;
  readonly label: readonly string[] | null;
}

export interface RunDetail extends RunSummary {
  readonly codeHash: string;
  readonly code: string | null;
  readonly policy: Readonly<Record<string, unknown>> | null;
  readonly warrant: { readonly chainHash: string; readonly depth: number; readonly holder: string; readonly expires: string } | null;
  readonly decisions: readonly Decision[];
  readonly usage: Readonly<Record<string, number | undefined>>;
  readonly limits: Readonly<Record<string, number | undefined>>;
  readonly output: unknown;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface SandboxInfo {
  readonly id: string;
  readonly tier: string;
  readonly createdAt: string;
}

export interface AuditRecordJson {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
  readonly event: Readonly<Record<string, unknown>>;
}

export interface AuditVerify {
  readonly ok: boolean;
  readonly records: number;
  readonly head: { readonly seq: number; readonly hash: string } | null;
  readonly checkpoint: { readonly seq: number; readonly at: string; readonly signedBy: string } | null;
  readonly problem: { readonly code: string; readonly message: string } | null;
}

export interface WarrantLevel {
  readonly level: number;
  readonly issuer: string;
  readonly holder: string;
  readonly grants: readonly unknown[];
  readonly narrowed: readonly string[];
  readonly notBefore: string | null;
  readonly expires: string | null;
  readonly revoked: boolean;
}

export interface WarrantInspection {
  readonly valid: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly chain: readonly WarrantLevel[];
}

export interface CheckAnswer {
  readonly answer: 'yes' | 'no';
  readonly policy: string;
  readonly observed: string;
}

export interface CheckReport {
  readonly tier: string;
  readonly answers: Readonly<Record<string, CheckAnswer | undefined>>;
  readonly consistent: boolean;
}

export interface StoredPolicy {
  readonly name: string;
}
