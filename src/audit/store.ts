/**
 * The audit store interface: an append-only, hash-chained log that SQLite (one host) and
 * PostgreSQL (several hosts) both implement, and the query filter both share. Every value a
 * caller supplies reaches SQL as a bound parameter; column names come only from this file.
 */
import { AirlockError } from '../core/errors.ts';
import { RUN_STATUSES, type RunStatus } from '../core/result.ts';
import { TENANT_ID } from '../core/tenant.ts';
import type { AuditRecord, ChainHead, StoredRow } from './chain.ts';
import { AUDIT_KINDS, type AuditEvent, type AuditEventKind } from './event.ts';

declare const tenantBrand: unique symbol;
/** A tenant id that passed TENANT_ID: safe in SQL, paths and cgroup names. Only tenantId() makes one. */
export type TenantId = string & { readonly [tenantBrand]: true };

/** True when `value` is a well-formed tenant id (the RunRequest's TENANT_ID). */
export function isTenantId(value: string): value is TenantId {
  return TENANT_ID.test(value);
}

/**
 * Checks a tenant id, or throws INVALID_REQUEST.
 * @example const t = tenantId('acme'); await store.query({ tenant: t });
 */
export function tenantId(value: string): TenantId {
  if (isTenantId(value)) return value;
  throw new AirlockError('INVALID_REQUEST', `tenant ${JSON.stringify(value.slice(0, 80))} is not a tenant id: use 1–63 of a-z 0-9 _ -, starting with a letter or digit`);
}

/**
 * Normalises a time given by a user ("2026-01-02", "2026-01-02T03:04:05+01:00") to the ISO form
 * the stores compare against, or throws INVALID_REQUEST.
 */
/** An ISO 8601 date, optionally with a time and a zone: what `--since 2026-01-02` means, and nothing Date.parse merely guesses at. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

export function isoTime(value: string, flag: string): string {
  const m = ISO_TIME.exec(value);
  const ms = m === null ? NaN : Date.parse(value);
  // The calendar date must exist as written: 2024-02-30 is refused, not read as March 1st.
  const day = m === null ? null : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const real = day !== null && day.getUTCDate() === Number(m?.[3]) && day.getUTCMonth() === Number(m?.[2]) - 1;
  if (Number.isNaN(ms) || !real) {
    throw new AirlockError('INVALID_REQUEST', `${flag} ${JSON.stringify(value)} is not a time: give an ISO date such as 2026-01-02 or 2026-01-02T03:04:05Z`);
  }
  return new Date(ms).toISOString();
}

/** Which records to return. Every field narrows; `tenant`, when given, is always applied. */
export interface AuditQuery {
  readonly tenant?: TenantId;
  readonly sandbox?: string;
  readonly run?: string;
  readonly seq?: number;
  /** run.ended records with this status. */
  readonly status?: RunStatus;
  /** decision records that allowed or denied. */
  readonly decision?: 'allow' | 'deny';
  /** Records of this kind only. */
  readonly kind?: AuditEventKind;
  /** Inclusive lower bound on `at` (ISO). `at` is the host's clock: see verify.ts on clocks. */
  readonly since?: string;
  /** Exclusive upper bound on `at` (ISO). */
  readonly until?: string;
  /** Paging: records with seq greater than this. */
  readonly afterSeq?: number;
  /** Paging backwards: records with seq less than this. */
  readonly beforeSeq?: number;
  /** 'asc' (default): oldest first; 'desc': newest first (the limit then keeps the newest). */
  readonly order?: 'asc' | 'desc';
  /** At most this many records (default and maximum QUERY_PAGE). */
  readonly limit?: number;
}

export const QUERY_PAGE = 1000;

/** A consistent view of the whole chain, for verify and export. */
export interface ChainReader {
  /** The head the store recorded with its last append. */
  head(): Promise<ChainHead>;
  /** Rows with seq > afterSeq in seq order, at most `limit`. */
  rows(afterSeq: number, limit: number): Promise<StoredRow[]>;
}

/**
 * An append-only, hash-chained audit log.
 *
 * @example
 *   await store.append([{ v: 1, at: new Date().toISOString(), kind: 'sandbox.destroyed', tenant: 'acme', sandbox: 'sbx_1', reason: 'idle' }]);
 *   const mine = await store.query({ tenant: tenantId('acme') });
 */
export interface AuditStore {
  /**
   * Which log this is, as checkpoints name it: 'sqlite:' + the database file's absolute path as
   * configured (not resolved through symlinks), or 'postgres://host:port/database'. The same for
   * every tenant's records.
   */
  readonly logId: string;
  /**
   * Appends events after the current head, atomically: all are durable when it resolves, none when
   * it rejects (AUDIT_UNAVAILABLE, AUDIT_CORRUPT, or INVALID_REQUEST for a malformed event).
   */
  append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]>;
  /** Records matching `query`, in seq order (newest first when `order` is 'desc'). */
  query(query: AuditQuery): Promise<AuditRecord[]>;
  /** Runs `fn` against one consistent snapshot of the chain (appends may go on meanwhile). */
  readChain<T>(fn: (reader: ChainReader) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const ISO_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DECISIONS: ReadonlySet<string> = new Set(['allow', 'deny']);
const STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES);
const KINDS: ReadonlySet<string> = new Set<AuditEventKind>(AUDIT_KINDS);

/** The columns every store's table has, in the order `rowFrom` reads them. */
export const COLUMNS = 'seq, prev_hash, hash, at, tenant, sandbox, run, kind, status, decision, event';

/**
 * The WHERE / ORDER / LIMIT of a query, with `placeholder(n)` spelling the n-th bound parameter
 * (`?` for SQLite, `$n` for PostgreSQL). Re-checks every field so a cast can't smuggle text in.
 */
export function queryClause(query: AuditQuery, placeholder: (n: number) => string): { sql: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (column: string, op: string, value: string | number): void => {
    params.push(value);
    where.push(`${column} ${op} ${placeholder(params.length)}`);
  };
  const bad = (what: string): never => {
    throw new AirlockError('INVALID_REQUEST', `audit query rejected: ${what}`);
  };
  if (query.tenant !== undefined) add('tenant', '=', isTenantId(query.tenant) ? query.tenant : bad('tenant is not a tenant id'));
  if (query.sandbox !== undefined) add('sandbox', '=', query.sandbox);
  if (query.run !== undefined) add('run', '=', query.run);
  if (query.seq !== undefined) add('seq', '=', Number.isSafeInteger(query.seq) ? query.seq : bad('seq must be an integer'));
  if (query.status !== undefined) add('status', '=', STATUSES.has(query.status) ? query.status : bad(`status must be one of ${RUN_STATUSES.join(', ')}`));
  if (query.decision !== undefined) add('decision', '=', DECISIONS.has(query.decision) ? query.decision : bad('decision must be allow or deny'));
  if (query.since !== undefined) add('at', '>=', ISO_AT.test(query.since) ? query.since : bad('since must be an ISO time (see isoTime)'));
  if (query.until !== undefined) add('at', '<', ISO_AT.test(query.until) ? query.until : bad('until must be an ISO time (see isoTime)'));
  if (query.kind !== undefined) add('kind', '=', KINDS.has(query.kind) ? query.kind : bad(`kind must be one of ${[...KINDS].join(', ')}`));
  if (query.afterSeq !== undefined) add('seq', '>', Number.isSafeInteger(query.afterSeq) ? query.afterSeq : bad('afterSeq must be an integer'));
  if (query.beforeSeq !== undefined) add('seq', '<', Number.isSafeInteger(query.beforeSeq) ? query.beforeSeq : bad('beforeSeq must be an integer'));
  // Typed, but re-checked like every field: the word reaches the SQL text itself.
  const order: string = query.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') bad('order must be asc or desc');
  const limit = query.limit ?? QUERY_PAGE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > QUERY_PAGE) bad(`limit must be 1–${QUERY_PAGE}`);
  params.push(limit);
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')} ` : '';
  return { sql: `${filter}ORDER BY seq ${order === 'desc' ? 'DESC' : 'ASC'} LIMIT ${placeholder(params.length)}`, params };
}

/** A row as a driver returns it (snake_case; PostgreSQL's BIGINT arrives as a string). */
export type RawRow = Readonly<Record<string, unknown>>;

/** Reads one raw row into a StoredRow, or throws AUDIT_CORRUPT when a column has the wrong type. */
export function rowFrom(raw: RawRow): StoredRow {
  const text = (key: string): string => {
    const v = raw[key];
    if (typeof v !== 'string') throw new AirlockError('AUDIT_CORRUPT', `an audit record's ${key} column is not text: the database is damaged; run \`airlock audit verify\``);
    return v;
  };
  const optional = (key: string): string | null => (raw[key] === null ? null : text(key));
  const seq = Number(raw['seq']);
  if (!Number.isSafeInteger(seq)) throw new AirlockError('AUDIT_CORRUPT', "an audit record's seq is not an integer: the database is damaged");
  const decision = optional('decision');
  return {
    seq,
    prevHash: text('prev_hash'),
    hash: text('hash'),
    at: text('at'),
    tenant: text('tenant'),
    sandbox: text('sandbox'),
    run: optional('run'),
    kind: text('kind'),
    status: optional('status'),
    // A value outside allow/deny is kept as stored so verify reports the mismatch.
    decision: decision as StoredRow['decision'],
    event: text('event'),
  };
}
