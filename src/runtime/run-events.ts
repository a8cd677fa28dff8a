/**
 * The lifecycle events of a run, built in one place for both tiers: the runtime is their only
 * writer (sandbox.created, run.started, run.ended, sandbox.destroyed), so a run looks the same in
 * the log whichever tier ran it.
 */
import { createHash } from 'node:crypto';
import { boundedText } from '../audit/bounded.ts';
import type { AuditEventBody } from '../audit/event.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import type { Tier, TierResult } from '../core/result.ts';
import type { CallAuthority } from '../policy/authority.ts';
import type { CompiledPolicy } from '../policy/compile.ts';

export type RunStarted = Extract<AuditEventBody, { kind: 'run.started' }>;
export type RunEnded = Extract<AuditEventBody, { kind: 'run.ended' }>;

/** How a sandbox the runtime made ends in the log, on both tiers (an expiry's decision says why). */
export const DESTROYED_BY_OWNER = 'destroyed by its owner';

export interface RunOf {
  readonly id: string;
  readonly tenant: string;
  readonly sandbox: string;
  readonly policy: CompiledPolicy;
  /** What runs: the code itself (text, or bytes kept as UTF-8 text), hashed as given. */
  readonly code: string | Uint8Array;
  readonly language: string;
  /** The run's warrant, if it has one: its id and chain hash are recorded with the run. */
  readonly authority?: Pick<CallAuthority, 'warrant'> | null;
  /** A sub-run's parent run. */
  readonly parent?: string | undefined;
}

/** run.started: the code that runs, its SHA-256, the policy's hash, and why this tier runs it. */
export function runStarted(run: RunOf, tier: Tier, tierReason: string): RunStarted {
  const code = typeof run.code === 'string' ? run.code : Buffer.from(run.code).toString('utf8');
  const warrant = run.authority?.warrant ?? null;
  return {
    kind: 'run.started',
    tenant: run.tenant,
    sandbox: run.sandbox,
    run: run.id,
    tier,
    codeHash: createHash('sha256').update(run.code).digest('hex'),
    code,
    language: run.language,
    policyHash: run.policy.hash,
    policy: run.policy.document,
    tierReason,
    ...(warrant === null ? {} : { warrant: { ...warrant } }),
    ...(run.parent === undefined ? {} : { parent: run.parent }),
  };
}

/**
 * The run.started of a run its tier refused to prepare: the code as given (WebAssembly bytes as
 * base64, as a prepared module keeps them) and its hash.
 */
export function refusedStarted(input: RunOf & { readonly tierReason: string }, tier: Tier): RunStarted {
  const code = input.language === 'wasm' && typeof input.code !== 'string' ? Buffer.from(input.code).toString('base64') : input.code;
  return runStarted({ ...input, code }, tier, input.tierReason);
}

/**
 * Characters of each output part (stdout, stderr, the result's JSON) run.ended keeps: enough to
 * show what a run gave back, while a run that prints megabytes costs the log a few KiB.
 */
export const OUTPUT_KEPT_CHARS = 4096;

type Ending = Pick<TierResult, 'id' | 'status' | 'error' | 'usage' | 'label'> & Partial<Pick<TierResult, 'stdout' | 'stderr' | 'result'>>;

/** The result as JSON text, bounded; null when there is none (or it is not JSON, which a tier refuses anyway). */
function resultText(result: unknown): string | null {
  if (result === undefined || result === null) return null;
  try {
    const json = JSON.stringify(result) as string | undefined;
    return json === undefined ? null : boundedText(json, OUTPUT_KEPT_CHARS);
  } catch {
    return null;
  }
}

/** run.ended: how it ended (status, error code and bounded message), usage, label and bounded output. */
export function runEnded(run: { readonly tenant: string; readonly sandbox: string }, result: Ending): RunEnded {
  return {
    kind: 'run.ended',
    tenant: run.tenant,
    sandbox: run.sandbox,
    run: result.id,
    status: result.status,
    errorCode: result.error?.code ?? null,
    usage: result.usage,
    ...(result.label === undefined ? {} : { label: [...result.label] }),
    ...(result.error === null ? {} : { errorMessage: boundedText(result.error.message, 512) }),
    output: { stdout: boundedText(result.stdout ?? '', OUTPUT_KEPT_CHARS), stderr: boundedText(result.stderr ?? '', OUTPUT_KEPT_CHARS), result: resultText(result.result) },
  };
}

/**
 * What a container exec runs, as run.started records it: the argv and every file the caller wrote
 * into the workspace since the previous exec, each by its SHA-256 (path → hash, sorted), as
 * canonical JSON, so the same command over the same files always hashes the same.
 */
export function execCode(argv: readonly string[], written: ReadonlyMap<string, string>): string {
  return canonicalJson({ argv, files: Object.fromEntries(written) }, 'the exec');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
