/**
 * A run as the console sees it, read from the audit log's records and nothing else: run.started
 * (tier, code, policy, warrant), the run's decisions (each door's verdict, its recorded code,
 * message and label) and run.ended (status, error, usage, label, output). Every field is what
 * was recorded, reshaped; no decision is re-judged here. Pure: the caller reads the records.
 *
 * @example
 *   const records = await store.query({ tenant, run: id });
 *   const detail = runDetail(records, { decisionsShown: 1000 });
 */
import type { z } from '@hono/zod-openapi';
import type { AuditRecord } from '../audit/chain.ts';
import type { AuditEvent } from '../audit/event.ts';
import { boundedText } from '../audit/bounded.ts';
import { codeInfo, isErrorCode } from '../core/errors.ts';
import type { Door } from '../policy/decide.ts';
import type { decisionSchema, runDetailSchema, runSummarySchema } from './console-schemas.ts';
import { policySummary } from './policy-summary.ts';

export type RunSummary = z.infer<typeof runSummarySchema>;
export type RunDetail = z.infer<typeof runDetailSchema>;
export type DecisionView = z.infer<typeof decisionSchema>;

type Started = Extract<AuditEvent, { kind: 'run.started' }>;
type Ended = Extract<AuditEvent, { kind: 'run.ended' }>;
type Decision = Extract<AuditEvent, { kind: 'decision' }>;

/** Characters of a run's code a detail shows. */
export const CODE_SHOWN_CHARS = 65_536;

const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/** The record's atoms as "source integrity", the form the tool bridge records them in. */
function atomsText(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  const out: string[] = [];
  for (const a of value as unknown[]) {
    if (typeof a === 'string') out.push(a);
    else if (a !== null && typeof a === 'object' && typeof (a as { source?: unknown }).source === 'string') {
      const atom = a as { source: string; integrity?: unknown };
      out.push(`${atom.source} ${typeof atom.integrity === 'string' ? atom.integrity : ''}`.trimEnd());
    }
  }
  return out;
}

/** decide()'s door for a recorded one: the log names egress "network" and the counted doors "limit". */
function doorOf(e: Decision, code: string | null): Door {
  switch (e.door) {
    case 'tool':
    case 'file':
      return e.door;
    case 'network':
      return 'egress';
    case 'limit':
      if (e.subject === 'idleMs' || e.subject === 'lifetimeMs') return 'lifetime';
      return code === 'LIMIT_DENIALS' ? 'denials' : 'quota';
  }
}

/**
 * The code and message a decision was recorded with. Doors record them in two shapes: a code as
 * `reason` with the message in `detail.message` (tools, egress), or `reason` holding the message
 * ("CODE: message", or text alone, for limits) with the code as the subject.
 */
function codeAndReason(e: Decision): { code: string | null; reason: string | null } {
  const detail = e.detail ?? {};
  const message = typeof detail['message'] === 'string' ? detail['message'] : null;
  if (CODE.test(e.reason)) return { code: isErrorCode(detail['code']) ? detail['code'] : e.reason, reason: message };
  const prefixed = /^([A-Z][A-Z0-9_]{1,63}): /.exec(e.reason);
  if (prefixed?.[1] !== undefined && isErrorCode(prefixed[1])) return { code: prefixed[1], reason: message ?? e.reason.slice(prefixed[1].length + 2) };
  return { code: isErrorCode(e.subject) ? e.subject : null, reason: message ?? e.reason };
}

export function decisionView(record: AuditRecord & { readonly event: Decision }): DecisionView {
  const e = record.event;
  const { code, reason } = codeAndReason(e);
  const detail = e.detail ?? {};
  return {
    seq: record.seq,
    at: record.at,
    door: doorOf(e, code),
    target: e.subject,
    verdict: e.allow ? 'allow' : 'deny',
    code,
    reason,
    // An allowed call records the label it found as `label`; a label decision as `content`.
    label: atomsText(detail['label']) ?? atomsText(detail['content']),
  };
}

function isKind<K extends AuditEvent['kind']>(kind: K) {
  return (r: AuditRecord): r is AuditRecord & { readonly event: Extract<AuditEvent, { kind: K }> } => r.event.kind === kind;
}

/** The run's records split by kind; undefined when there is no run.started (not a run of this tenant). */
function partsOf(records: readonly AuditRecord[]): { started: AuditRecord & { event: Started }; ended: (AuditRecord & { event: Ended }) | undefined; decisions: (AuditRecord & { event: Decision })[] } | undefined {
  const started = records.find(isKind('run.started'));
  if (started === undefined) return undefined;
  return { started, ended: records.find(isKind('run.ended')), decisions: records.filter(isKind('decision')) };
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))];
}

function summaryOf(parts: NonNullable<ReturnType<typeof partsOf>>): RunSummary {
  const { started, ended, decisions } = parts;
  const denied = decisions.filter((d) => !d.event.allow);
  return {
    id: started.event.run ?? '',
    tier: started.event.tier,
    status: ended === undefined ? 'running' : ended.event.status === 'ok' ? 'ok' : 'error',
    startedAt: started.at,
    endedAt: ended?.at ?? null,
    durationMs: ended === undefined ? null : Date.parse(ended.at) - Date.parse(started.at),
    errorCode: ended?.event.errorCode ?? null,
    denials: denied.length,
    tools: distinct(decisions.filter((d) => d.event.door === 'tool').map((d) => d.event.subject)),
    deniedCodes: distinct(denied.map((d) => codeAndReason(d.event).code)),
    label: ended?.event.label === undefined ? null : atomsText(ended.event.label),
  };
}

/** The summary of the run whose records (all of one run, seq order) these are; undefined without its run.started. */
export function runSummary(records: readonly AuditRecord[]): RunSummary | undefined {
  const parts = partsOf(records);
  return parts === undefined ? undefined : summaryOf(parts);
}

/** The whole view of one run; `decisionsShown` bounds the list (the summary counts every record given). */
export function runDetail(records: readonly AuditRecord[], options: { readonly decisionsShown: number }): RunDetail | undefined {
  const parts = partsOf(records);
  if (parts === undefined) return undefined;
  const { started, ended, decisions } = parts;
  const s = started.event;
  const e = ended?.event;
  const policy = policySummary(s.policyHash, s.policy);
  const w = s.warrant;
  return {
    ...summaryOf(parts),
    codeHash: s.codeHash,
    code: boundedText(s.code, CODE_SHOWN_CHARS),
    language: s.language,
    tierReason: s.tierReason ?? null,
    policyHash: s.policyHash,
    policy,
    warrant: w === undefined ? null : { id: w.id, chainHash: w.chainHash, depth: w.depth ?? null, holder: w.holder ?? null, expires: w.expiresAt ?? null },
    decisions: decisions.slice(0, options.decisionsShown).map(decisionView),
    decisionsTruncated: decisions.length > options.decisionsShown,
    usage: e === undefined ? null : { cpuMs: e.usage.cpuMs, wallMs: e.usage.wallMs, memoryMiB: Math.round((e.usage.memoryBytes / 1048576) * 10) / 10 },
    limits: policy?.limits ?? null,
    output: e?.output === undefined ? null : { stdout: e.output.stdout, stderr: e.output.stderr, result: e.output.result },
    // A record from before messages were kept shows the code's hint from the one table.
    error: e === undefined || e.errorCode === null ? null : { code: e.errorCode, message: e.errorMessage ?? codeInfo(e.errorCode).hint },
    parent: s.parent ?? null,
  };
}

/** A run.started's summary on its own: the run as it was when it started. */
export function startedSummary(record: AuditRecord): RunSummary | undefined {
  return runSummary([record]);
}
