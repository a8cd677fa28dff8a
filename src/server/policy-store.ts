/**
 * Stored policies, by tenant and name, in `$AIRLOCK_HOME/policies.db` (node:sqlite): what the
 * console lists, shows and checks. A policy is compiled before it is stored (a document that
 * can't be enforced is refused, INVALID_POLICY), and kept as the document given, with the hash
 * its compiled form has (the policyHash a run under it records). Every read and write names the
 * tenant; another tenant's name is answered exactly like a name that does not exist.
 *
 * @example
 *   const store = PolicyStore.open(home);
 *   store.put(tenant, 'mail-reader', document);
 *   store.get(tenant, 'mail-reader').document;
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { TenantId } from '../audit/store.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import { AirlockError } from '../core/errors.ts';
import { compilePolicy } from '../policy/compile.ts';

/** Policies one tenant may store. */
export const POLICIES_PER_TENANT = 256;
/** The largest stored document, as canonical JSON. */
export const POLICY_MAX_CHARS = 256 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS policies (
  tenant TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL, hash TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, name)
) STRICT;
`;

export interface StoredPolicy {
  readonly name: string;
  readonly hash: string;
  readonly updatedAt: string;
  readonly document: unknown;
}

/** The same answer for a name that does not exist and for another tenant's. */
export function policyNotFound(name: string): AirlockError {
  return new AirlockError('NOT_FOUND', `no policy ${JSON.stringify(name.slice(0, 64))} in your tenant: list yours with GET /v1/policies, or store it with PUT /v1/policies/{name}`);
}

export class PolicyStore {
  readonly #db: DatabaseSync;

  private constructor(path: string) {
    // Private to the server's owner, like keys.db: a policy names the tenant's tools and hosts.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    this.#db = new DatabaseSync(path, { timeout: 5000 });
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    this.#db.exec(SCHEMA);
  }

  static open(home: string): PolicyStore {
    return new PolicyStore(join(home, 'policies.db'));
  }

  /** Compiles and stores `document` as the tenant's `name` (replacing it); INVALID_POLICY when it does not compile. */
  put(tenant: TenantId, name: string, document: unknown): StoredPolicy {
    const compiled = compilePolicy(document);
    const text = canonicalJson(document, 'the policy');
    if (text.length > POLICY_MAX_CHARS) throw new AirlockError('INVALID_POLICY', `the policy is ${text.length} characters as JSON, over the ${POLICY_MAX_CHARS} stored: grant less, or describe tool arguments more briefly`);
    const exists = this.#db.prepare('SELECT 1 FROM policies WHERE tenant = ? AND name = ?').get(tenant, name) !== undefined;
    const count = Number(this.#db.prepare('SELECT count(*) AS n FROM policies WHERE tenant = ?').get(tenant)?.['n'] ?? 0);
    if (!exists && count >= POLICIES_PER_TENANT) throw new AirlockError('INVALID_REQUEST', `your tenant stores ${count} policies, the most it may: store under one of its names instead`);
    const updatedAt = new Date().toISOString();
    this.#db
      .prepare('INSERT INTO policies (tenant, name, document, hash, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, name) DO UPDATE SET document = excluded.document, hash = excluded.hash, updated_at = excluded.updated_at')
      .run(tenant, name, text, compiled.hash, updatedAt);
    return { name, hash: compiled.hash, updatedAt, document: JSON.parse(text) as unknown };
  }

  /** The tenant's policy `name`, or NOT_FOUND. */
  get(tenant: TenantId, name: string): StoredPolicy {
    const row = this.#db.prepare('SELECT name, document, hash, updated_at FROM policies WHERE tenant = ? AND name = ?').get(tenant, name);
    if (row === undefined) throw policyNotFound(name);
    return { name: String(row['name']), hash: String(row['hash']), updatedAt: String(row['updated_at']), document: JSON.parse(String(row['document'])) as unknown };
  }

  /** The tenant's policies, by name. */
  list(tenant: TenantId): StoredPolicy[] {
    const rows = this.#db.prepare('SELECT name, document, hash, updated_at FROM policies WHERE tenant = ? ORDER BY name').all(tenant);
    return rows.map((row) => ({ name: String(row['name']), hash: String(row['hash']), updatedAt: String(row['updated_at']), document: JSON.parse(String(row['document'])) as unknown }));
  }

  close(): void {
    this.#db.close();
  }
}
