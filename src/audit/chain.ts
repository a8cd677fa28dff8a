/**
 * The hash chain: how a batch of events becomes sealed records, and how one record is checked
 * against the one before it. Pure: no storage, no clock. Both stores and `verify` use only this.
 *
 * record.hash = sha256(JSON.stringify([seq, prevHash, at, eventJson])) where eventJson is the
 * canonical JSON of the event (keys sorted, no spaces). The array encoding is unambiguous: every
 * field is a JSON number or an escaped JSON string, so no two tuples encode to the same bytes.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import { AirlockError } from '../core/errors.ts';
import { RUN_STATUSES } from '../core/result.ts';
import { TENANT_ID } from '../core/tenant.ts';
import { AUDIT_KINDS, type AuditEvent, type AuditEventKind } from './event.ts';

/** prevHash of record 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain's tip: seq 0 and GENESIS_HASH when the log is empty. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The columns a store keeps per record. All but the chain fields are derived from the event. */
export interface StoredRow {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly at: string;
  readonly tenant: string;
  readonly sandbox: string;
  readonly run: string | null;
  readonly kind: string;
  readonly status: string | null;
  readonly decision: 'allow' | 'deny' | null;
  /** Canonical JSON of the event, exactly the bytes that were hashed. */
  readonly event: string;
}

/** A record as callers see it: the parsed event with its place in the chain. */
export interface AuditRecord {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly at: string;
  readonly event: AuditEvent;
}

const KINDS: ReadonlySet<AuditEventKind> = new Set<AuditEventKind>(AUDIT_KINDS);
const STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES);
// Exactly what Date#toISOString() prints for years 0000–9999: fixed width, so the stores can
// filter by time with plain string comparison.
const ISO_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HASH = /^[0-9a-f]{64}$/;

/** The hash of one record. */
export function recordHash(seq: number, prevHash: string, at: string, eventJson: string): string {
  return createHash('sha256').update(JSON.stringify([seq, prevHash, at, eventJson])).digest('hex');
}

/**
 * Checks an event's shape at run time (events arrive from other processes and other versions).
 * Throws INVALID_REQUEST naming the field. `tenantOk` is the tenant-id check (see store.ts).
 */
export function checkEvent(event: AuditEvent, tenantOk: (tenant: string) => boolean): void {
  const bad = (what: string): never => {
    throw new AirlockError('INVALID_REQUEST', `audit event rejected: ${what}`);
  };
  const e = event as unknown as Partial<Record<string, unknown>>;
  if (e['v'] !== 1) bad('v must be 1 (this store writes version 1 events)');
  if (typeof e['at'] !== 'string' || !ISO_AT.test(e['at']) || Number.isNaN(Date.parse(e['at']))) bad('at must be an ISO time from Date#toISOString()');
  if (typeof e['kind'] !== 'string' || !KINDS.has(e['kind'] as AuditEventKind)) bad(`unknown kind ${JSON.stringify(e['kind'])}`);
  if (typeof e['tenant'] !== 'string' || !tenantOk(e['tenant'])) bad('tenant must be 1–63 of a-z 0-9 _ -, starting with a letter or digit');
  if (typeof e['sandbox'] !== 'string' || e['sandbox'].length === 0 || e['sandbox'].length > 200) bad('sandbox must be a sandbox id');
  if (e['run'] !== undefined && (typeof e['run'] !== 'string' || e['run'].length > 200)) bad('run must be a run id');
  if (event.kind === 'run.ended' && !STATUSES.has(event.status)) bad(`unknown run status ${JSON.stringify(event.status)}`);
  if (event.kind === 'run.ended' && typeof (event.usage as Partial<typeof event.usage> | undefined)?.wallMs !== 'number') bad('run.ended needs its usage (wallMs, cpuMs, memoryBytes)');
  if (event.kind === 'decision' && typeof event.allow !== 'boolean') bad('decision.allow must be true or false');
}

/** The derived columns of an event: what the stores index and filter on. */
export function columnsOf(event: AuditEvent): Pick<StoredRow, 'tenant' | 'sandbox' | 'run' | 'kind' | 'status' | 'decision'> {
  return {
    tenant: event.tenant,
    sandbox: event.sandbox,
    run: event.run ?? null,
    kind: event.kind,
    status: event.kind === 'run.ended' ? event.status : null,
    decision: event.kind === 'decision' ? (event.allow ? 'allow' : 'deny') : null,
  };
}

/** Seals events after `head`: consecutive seqs, each record chained to the one before. */
export function sealBatch(head: ChainHead, events: readonly AuditEvent[]): StoredRow[] {
  const rows: StoredRow[] = [];
  let prev = head;
  for (const event of events) {
    const seq = prev.seq + 1;
    const json = canonicalJson(event);
    const row: StoredRow = { seq, prevHash: prev.hash, hash: recordHash(seq, prev.hash, event.at, json), at: event.at, ...columnsOf(event), event: json };
    rows.push(row);
    prev = row;
  }
  return rows;
}

/**
 * Why `row` does not follow `prev` in a sound chain, or null when it does. The clock is not
 * checked: `at` is recorded as the host's clock gave it and may go backwards; seq is the order.
 */
export function brokenLink(prev: ChainHead, row: StoredRow): string | null {
  if (row.seq !== prev.seq + 1) {
    return row.seq > prev.seq + 1 ? `record ${prev.seq + 1} is missing (the next record is ${row.seq})` : `record ${row.seq} is out of order`;
  }
  if (row.prevHash !== prev.hash) return `its prevHash does not match the hash of record ${prev.seq}`;
  let event: unknown;
  try {
    event = JSON.parse(row.event);
  } catch {
    return 'its event is not valid JSON (truncated or edited)';
  }
  if (!HASH.test(row.hash) || row.hash !== recordHash(row.seq, row.prevHash, row.at, row.event)) return 'its hash does not match its contents (edited)';
  if (event === null || typeof event !== 'object' || (event as { v?: unknown }).v !== 1) return 'its event is not a version 1 audit event';
  const ev = event as AuditEvent;
  // A row can hash correctly and still hold no event airlock writes (forged, with the hashes redone).
  try {
    checkEvent(ev, (tenant) => TENANT_ID.test(tenant));
  } catch (error) {
    return `its event is not one airlock writes (${(error as Error).message})`;
  }
  if (ev.at !== row.at) return 'its at column does not match the event';
  const cols = columnsOf(ev);
  for (const key of Object.keys(cols) as (keyof typeof cols)[]) {
    if (cols[key] !== row[key]) return `its ${key} column does not match the event (edited)`;
  }
  return null;
}

/** The caller's view of a row. Throws AUDIT_CORRUPT when the stored event does not parse. */
export function toRecord(row: StoredRow): AuditRecord {
  try {
    return { seq: row.seq, prevHash: row.prevHash, hash: row.hash, at: row.at, event: JSON.parse(row.event) as AuditEvent };
  } catch {
    throw new AirlockError('AUDIT_CORRUPT', `audit record ${row.seq} does not parse: run \`airlock audit verify\` and restore the log from a backup`);
  }
}
