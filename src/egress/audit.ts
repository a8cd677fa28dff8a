/**
 * One audit event per egress request, allowed or denied, written when the request ends (so it
 * carries status, bytes and duration). A credentialed request records the secret's name only.
 * Every denial spends the sandbox's (or run's) denial budget (limits.denials): past it, the
 * gateway refuses that sandbox's requests at once and records them no more; guest-chosen text
 * (method, host, path, message) is kept bounded (audit/bounded.ts).
 */
import { denialsSpentMessage } from '../policy/denials.ts';
import { boundedText } from '../audit/bounded.ts';
import type { AuditSink } from '../audit/event.ts';
import { AirlockError, toAirlockError, type ErrorCode } from '../core/errors.ts';
import type { EgressContext } from './admit.ts';
import type { UsageLedger } from './quota.ts';

export interface EgressRecord {
  method: string;
  scheme: string;
  host: string;
  port: number;
  path: string;
  route: string | null;
  allow: boolean;
  /** ROUTE_GRANTED, or the denial's reason code (HOST_NOT_GRANTED, ADDRESS_LOOPBACK, …). */
  reason: string;
  code: ErrorCode | null;
  message: string | null;
  status: number | null;
  bytesOut: number;
  bytesIn: number;
  address: string | null;
  secret: string | null;
  /** The error that ended an allowed request early (quota, size, upstream), if any. */
  ended: ErrorCode | null;
}

export interface EgressAuditDeps {
  /** `room`, when the sink has it, waits while its queue is full (back-pressure). */
  readonly audit: AuditSink & { room?: () => Promise<void> };
  readonly ledger: UsageLedger;
}

/** A record for a request about to be decided; fields fill in as it goes. */
export function newRecord(method: string, scheme: string, host: string, port: number, path: string): EgressRecord {
  return { method, scheme, host, port, path, route: null, allow: false, reason: 'UNDECIDED', code: null, message: null, status: null, bytesOut: 0, bytesIn: 0, address: null, secret: null, ended: null };
}

/**
 * What every request passes before it is read further: refused at once when its context's denial
 * budget is spent; otherwise it waits while the audit queue is full (its event will need room),
 * and is refused if the log can't take more. Returns the refusal, or null.
 */
export async function auditGate(deps: EgressAuditDeps, ctx: EgressContext): Promise<AirlockError | null> {
  const limit = ctx.policy.limits.denials;
  if (deps.ledger.denialsSpent(ctx, limit)) return new AirlockError('LIMIT_DENIALS', denialsSpentMessage(ctx.policy));
  try {
    await deps.audit.room?.();
    return null;
  } catch (error) {
    return toAirlockError(error, 'AUDIT_UNAVAILABLE');
  }
}

/**
 * Appends the record as a `decision` event on the network door. A denial spends the context's
 * budget first: the one that spends it is recorded as LIMIT_DENIALS, later ones not at all.
 */
export function auditEgress(deps: EgressAuditDeps, ctx: EgressContext, record: EgressRecord, durationMs: number): void {
  if (!record.allow) {
    const { verdict, message } = deps.ledger.spendDenial(ctx, ctx.policy);
    if (verdict === 'stopped') return;
    if (verdict === 'stop') {
      Object.assign(record, { reason: 'LIMIT_DENIALS', code: 'LIMIT_DENIALS', message });
      ctx.onDenialsSpent?.();
    }
  }
  const method = boundedText(record.method, 32);
  const host = boundedText(record.host);
  const path = boundedText(record.path);
  const message = record.message === null ? null : boundedText(record.message, 512);
  deps.audit.append({
    kind: 'decision',
    tenant: ctx.tenant,
    sandbox: ctx.sandbox,
    ...(ctx.run === undefined ? {} : { run: ctx.run }),
    door: 'network',
    subject: `${method} ${record.scheme}://${host}:${record.port}${path}`,
    allow: record.allow,
    reason: record.reason,
    detail: { tenant: ctx.tenant, sandbox: ctx.sandbox, ...record, method, host, path, message, decision: record.allow ? 'allow' : 'deny', durationMs: Math.round(durationMs * 1000) / 1000 },
  });
}
