/**
 * One audit event per egress request, allowed or denied, written when the request ends (so it
 * carries status, bytes and duration). A credentialed request records the secret's name only.
 */
import type { AuditSink } from '../audit/event.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { UsageKey } from './quota.ts';

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

/** A record for a request about to be decided; fields fill in as it goes. */
export function newRecord(method: string, scheme: string, host: string, port: number, path: string): EgressRecord {
  return { method, scheme, host, port, path, route: null, allow: false, reason: 'UNDECIDED', code: null, message: null, status: null, bytesOut: 0, bytesIn: 0, address: null, secret: null, ended: null };
}

/** Appends the record as a `decision` event on the network door. */
export function auditEgress(sink: AuditSink, ctx: UsageKey, record: EgressRecord, durationMs: number): void {
  sink.append({
    kind: 'decision',
    tenant: ctx.tenant,
    sandbox: ctx.sandbox,
    ...(ctx.run === undefined ? {} : { run: ctx.run }),
    door: 'network',
    subject: `${record.method} ${record.scheme}://${record.host}:${record.port}${record.path}`,
    allow: record.allow,
    reason: record.reason,
    detail: { tenant: ctx.tenant, sandbox: ctx.sandbox, ...record, decision: record.allow ? 'allow' : 'deny', durationMs: Math.round(durationMs * 1000) / 1000 },
  });
}
