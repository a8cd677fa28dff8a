/**
 * The label store: what a sink writes is kept with its label, keyed by tenant and the object's
 * source, so reading the object later — in another run, through another tool — brings the label
 * back (`withStored`), and forwarding or sharing it carries it (resolve.ts). A class the caller
 * owns and closes; SQLite through node:sqlite (a file, or `:memory:` for one process).
 *
 * Store modes: `replace` (the write overwrites the object: its label becomes the content's),
 * `join` (the write adds to the object: its label joins the content's), `new` (a new object; if one
 * is already stored under that source its label is joined, never dropped). A label of more than
 * MAX_ATOMS sources is kept as one atom that every principal it names may read (Label.collapse).
 *
 * @example
 *   using store = new LabelStore(':memory:');
 *   store.write('acme', 'drive:file/f1', content, 'replace');
 *   store.withStored('acme', revealed);   // revealed ∪ what drive:file/f1 was stored with
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { AirlockError } from '../../core/errors.ts';
import { TENANT_ID } from '../../core/tenant.ts';
import { Label, MAX_ATOMS } from './label.ts';

export type StoreMode = 'replace' | 'join' | 'new';
const PARSED_CACHE = 4096;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS object_labels (
  tenant TEXT NOT NULL, source TEXT NOT NULL, label TEXT NOT NULL,
  PRIMARY KEY (tenant, source)
) STRICT;
`;

function checkTenant(tenant: string): void {
  if (!TENANT_ID.test(tenant)) throw new AirlockError('INVALID_REQUEST', `tenant ${JSON.stringify(tenant)} is not a tenant id: use lowercase letters, digits, _ and -`);
}

export class LabelStore implements Disposable {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #getMany: StatementSync;
  readonly #put: StatementSync;
  /** Parsed labels by their stored text: a row read again is parsed again only if its text changed. */
  readonly #parsed = new Map<string, Label>();

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA busy_timeout = 10000');
    if (path !== ':memory:') this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
    this.#db.exec(SCHEMA);
    this.#get = this.#db.prepare('SELECT label FROM object_labels WHERE tenant = ? AND source = ?');
    this.#getMany = this.#db.prepare('SELECT label FROM object_labels WHERE tenant = ? AND source IN (SELECT value FROM json_each(?))');
    this.#put = this.#db.prepare('INSERT INTO object_labels (tenant, source, label) VALUES (?, ?, ?) ON CONFLICT (tenant, source) DO UPDATE SET label = excluded.label');
  }

  /** The label stored with an object, if a sink wrote it. */
  get(tenant: string, source: string): Label | undefined {
    checkTenant(tenant);
    const row = this.#get.get(tenant, source) as { label: string } | undefined;
    return row === undefined ? undefined : this.#parse(row.label);
  }

  /** `label` joined with the stored label of each source it names (one query). */
  withStored(tenant: string, label: Label): Label {
    checkTenant(tenant);
    if (label.size === 0) return label;
    if (label.size === 1) {
      const [only] = label.each();
      const stored = only === undefined ? undefined : this.get(tenant, only.source);
      return stored === undefined ? label : label.join(stored);
    }
    const rows = this.#getMany.all(tenant, JSON.stringify(Array.from(label.each(), (a) => a.source))) as { label: string }[];
    return rows.length === 0 ? label : Label.joinAll([label, ...rows.map((r) => this.#parse(r.label))]);
  }

  #parse(text: string): Label {
    const known = this.#parsed.get(text);
    if (known !== undefined) return known;
    const label = Label.fromJson(JSON.parse(text));
    if (this.#parsed.size >= PARSED_CACHE) this.#parsed.clear();
    this.#parsed.set(text, label);
    return label;
  }

  /** Stores `content` as the label of `source` by `mode`; returns the label now stored. */
  write(tenant: string, source: string, content: Label, mode: StoreMode): Label {
    checkTenant(tenant);
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const had = mode === 'replace' ? undefined : this.get(tenant, source);
      const joined = had === undefined ? content : had.join(content);
      // Past the bound the label is kept as one atom, never dropped (see Label.collapse).
      const next = joined.size > MAX_ATOMS ? joined.collapse(`unlabelled:many/${source}`) : joined;
      this.#put.run(tenant, source, next.canonical());
      this.#db.exec('COMMIT');
      return next;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
