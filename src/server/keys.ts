/**
 * API keys, one tenant each, kept in `$AIRLOCK_HOME/keys.db` (node:sqlite). Only a key's SHA-256
 * is stored: the key is 256 random bits, so a plain hash can't be searched back to it, and a copy
 * of the file grants nothing. A key is shown once, when it is made. It names its own row
 * (`alk_<id>_<secret>`), so a check reads one row and compares the hashes in constant time.
 *
 * @example
 *   const keys = KeyStore.open(home);
 *   const { id, key } = keys.create(tenantId('acme'));   // print `key` once
 *   keys.verify(`Bearer ${key}`.slice(7));                // { id, tenant: 'acme' }
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { tenantId, type TenantId } from '../audit/store.ts';
import { AirlockError } from '../core/errors.ts';

const KEY = /^alk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** The suffix of the neighbour tenant src/check/ makes beside the one it probes. */
const NEIGHBOUR_SUFFIX = '-nbr';
const KEY_ID = /^(?:alk_)?([0-9a-f]{16})$/;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys (tenant);
`;

export interface KeyInfo {
  readonly id: string;
  readonly tenant: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** Who a request is: the key's id (rate limits are per key) and its tenant (every route's scope). */
export interface Caller {
  readonly keyId: string;
  readonly tenant: TenantId;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export class KeyStore {
  readonly path: string;
  readonly #db: DatabaseSync;

  private constructor(path: string) {
    this.path = path;
    // Created private to its owner before SQLite opens it: the hashes are nobody else's business.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    this.#db = new DatabaseSync(path, { timeout: 5000 });
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    this.#db.exec(SCHEMA);
  }

  /** Opens (creating if need be) `keys.db` in an AIRLOCK_HOME. */
  static open(home: string): KeyStore {
    return new KeyStore(join(home, 'keys.db'));
  }

  /**
   * Makes a key for `tenant`; the returned `key` is the only copy there will ever be. Tenant ids
   * ending in `-nbr` are refused: `airlock check` (POST /v1/check) probes isolation from a
   * neighbour tenant of that name, which must never be a tenant someone holds a key for.
   */
  create(tenant: TenantId): { id: string; key: string; tenant: string } {
    if (tenant.endsWith(NEIGHBOUR_SUFFIX)) throw new AirlockError('INVALID_REQUEST', `tenant ids ending in "${NEIGHBOUR_SUFFIX}" are reserved for airlock check's neighbour probes: choose another tenant id`);
    const id = randomBytes(8).toString('hex');
    const key = `alk_${id}_${randomBytes(32).toString('base64url')}`;
    this.#db.prepare('INSERT INTO api_keys (id, tenant, hash, created_at) VALUES (?, ?, ?, ?)').run(id, tenant, digest(key).toString('hex'), new Date().toISOString());
    return { id, key, tenant };
  }

  list(tenant: TenantId): KeyInfo[] {
    const rows = this.#db.prepare('SELECT id, tenant, created_at, revoked_at FROM api_keys WHERE tenant = ? ORDER BY created_at, id').all(tenant);
    return rows.map((r) => ({ id: String(r['id']), tenant: String(r['tenant']), createdAt: String(r['created_at']), revokedAt: r['revoked_at'] === null ? null : String(r['revoked_at']) }));
  }

  /** Revokes one of `tenant`'s keys by id; NOT_FOUND when that tenant has no such live key. */
  revoke(tenant: TenantId, id: string): void {
    const m = KEY_ID.exec(id);
    const changed = m === null ? 0 : Number(this.#db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND tenant = ? AND revoked_at IS NULL').run(new Date().toISOString(), m[1] ?? '', tenant).changes);
    if (changed === 0) throw new AirlockError('NOT_FOUND', `tenant ${tenant} has no live key ${JSON.stringify(id.slice(0, 40))}: \`airlock keys list --tenant ${tenant}\` shows its keys`);
  }

  /** The caller a presented key stands for, or undefined for a malformed, unknown or revoked key. */
  verify(presented: string): Caller | undefined {
    const m = KEY.exec(presented);
    if (m === null) return undefined;
    const row = this.#db.prepare('SELECT tenant, hash FROM api_keys WHERE id = ? AND revoked_at IS NULL').get(m[1] ?? '');
    if (row === undefined) return undefined;
    const stored = Buffer.from(String(row['hash']), 'hex');
    const given = digest(presented);
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
    return { keyId: m[1] ?? '', tenant: tenantId(String(row['tenant'])) };
  }

  close(): void {
    this.#db.close();
  }
}
