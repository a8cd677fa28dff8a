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

export interface RouteSummary {
  readonly name: string | null;
  readonly host: string;
  readonly scheme: string;
  readonly port: number | null;
  readonly methods: readonly string[] | null;
  readonly paths: readonly string[] | null;
  readonly forwardTo: string | null;
  readonly secret: string | null;
}

export interface PolicySummary {
  readonly hash: string;
  readonly tools: readonly { readonly name: string; readonly operation: string }[];
  readonly routes: readonly RouteSummary[];
  readonly files: readonly { readonly path: string; readonly at: string }[];
  readonly env: readonly string[];
  readonly secrets: readonly string[];
  readonly limits: Readonly<Record<string, number>>;
}

export interface RunDetail extends RunSummary {
  readonly codeHash: string;
  readonly code: string | null;
  readonly language: string;
  readonly tierReason: string | null;
  readonly policy: PolicySummary | null;
  readonly warrant: { readonly id: string; readonly chainHash: string; readonly depth: number | null; readonly holder: string | null; readonly expires: string | null } | null;
  readonly decisions: readonly Decision[];
  readonly decisionsTruncated: boolean;
  readonly usage: { readonly cpuMs: number; readonly wallMs: number; readonly memoryMiB: number } | null;
  readonly limits: Readonly<Record<string, number>> | null;
  /** What run.ended recorded, each part bounded; `result` is JSON text. */
  readonly output: { readonly stdout: string; readonly stderr: string; readonly result: string | null } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly parent: string | null;
}

export interface SandboxInfo {
  readonly id: string;
  readonly tier: string;
  readonly createdAt: string;
  readonly limits: Readonly<Record<string, number>>;
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
  readonly id: string;
  readonly issuer: string;
  readonly holder: string;
  readonly grants: readonly unknown[];
  /** The level states no grants of its own: it holds its parent's. */
  readonly inherits: boolean;
  readonly narrowed: readonly string[];
  readonly notBefore: string;
  readonly expires: string;
  readonly maxDepth: number;
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
