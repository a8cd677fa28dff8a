/**
 * The shared audit store: PostgreSQL, for several hosts appending to one chain.
 *
 * Appends are serialised by `SELECT ... FOR UPDATE` on the one head row inside the append's
 * transaction: a second host's append waits for the first to commit, then chains after it. The
 * commit is durable when it returns (synchronous_commit, on by default; turning it off on the
 * server gives up that guarantee). Events are stored as TEXT, not jsonb, so the bytes that were
 * hashed are the bytes kept.
 */
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { AirlockError } from '../core/errors.ts';
import { checkEvent, GENESIS_HASH, sealBatch, toRecord, type AuditRecord, type ChainHead, type StoredRow } from './chain.ts';
import type { AuditEvent } from './event.ts';
import { COLUMNS, isTenantId, queryClause, rowFrom, type AuditQuery, type AuditStore, type ChainReader, type RawRow } from './store.ts';

/** Rows per INSERT statement: 11 parameters each, far below PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 500;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  seq BIGINT PRIMARY KEY, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL,
  tenant TEXT NOT NULL, sandbox TEXT NOT NULL, run TEXT, kind TEXT NOT NULL, status TEXT, decision TEXT,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_tenant ON audit_events (tenant, seq);
CREATE INDEX IF NOT EXISTS audit_events_sandbox ON audit_events (sandbox, seq);
CREATE INDEX IF NOT EXISTS audit_events_run ON audit_events (run, seq);
CREATE TABLE IF NOT EXISTS audit_head (id INT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head VALUES (1, 0, '${GENESIS_HASH}') ON CONFLICT (id) DO NOTHING;
-- Defence in depth: the chain detects tampering; these stop it through ordinary SQL.
CREATE OR REPLACE FUNCTION airlock_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'the airlock audit log is append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$;
CREATE OR REPLACE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION airlock_audit_refuse();
CREATE OR REPLACE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION airlock_audit_refuse();
CREATE OR REPLACE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
  FOR EACH ROW WHEN (NEW.seq < OLD.seq) EXECUTE FUNCTION airlock_audit_refuse();
CREATE OR REPLACE TRIGGER audit_head_permanent BEFORE DELETE OR TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION airlock_audit_refuse();
`;

/** What went wrong, as a coded error. SQLSTATE classes: 08 connection, 53 resources, 23 integrity, XX internal. */
function storeError(error: unknown, doing: string): AirlockError {
  if (error instanceof AirlockError) return error;
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const detail = `${String(e.message)}${code === '' ? '' : ` [${code}]`}`;
  if (code.startsWith('23') || code === 'XX001' || code === 'XX002' || code === 'P0001') {
    return new AirlockError('AUDIT_CORRUPT', `the PostgreSQL audit log is inconsistent while ${doing} (${detail}): run \`airlock audit verify\``);
  }
  return new AirlockError('AUDIT_UNAVAILABLE', `the PostgreSQL audit log failed while ${doing} (${detail}): check the server, its disk and the connection settings, then retry; nothing recorded before was lost`);
}

/**
 * @example
 *   const store = await PostgresAuditStore.open({ host: '/run/postgresql', database: 'airlock' });
 */
export class PostgresAuditStore implements AuditStore {
  #logId = '';
  readonly #pool: Pool;
  #closed = false;

  private constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** 'postgres://host:port/database' as the connection reached it (a unix socket's directory as host). */
  get logId(): string {
    return this.#logId;
  }

  /**
   * Connects and creates the tables when they are absent (never dropping or altering what is
   * there). Throws AUDIT_UNAVAILABLE when the server can't be reached.
   */
  static async open(config: PoolConfig): Promise<PostgresAuditStore> {
    const pool = new Pool({ max: 4, ...config });
    // An idle client's error (server restart) must not crash the host; the next query reports it.
    pool.on('error', () => undefined);
    const store = new PostgresAuditStore(pool);
    try {
      await store.#transaction('creating the audit tables', async (client) => {
        // Several hosts may start at once; CREATE ... IF NOT EXISTS races without this lock.
        await client.query("SELECT pg_advisory_xact_lock(hashtext('airlock.audit.schema'))");
        await client.query(SCHEMA);
        const name = await client.query('SELECT current_database() AS db');
        store.#logId = `postgres://${client.host}:${client.port}/${String((name.rows[0] as RawRow | undefined)?.['db'])}`;
      });
    } catch (error) {
      await pool.end();
      throw error;
    }
    return store;
  }

  async append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]> {
    try {
      for (const event of events) checkEvent(event, isTenantId);
    } catch (error) {
      throw storeError(error, 'appending');
    }
    if (events.length === 0) return [];
    return this.#transaction('appending', async (client) => {
      const head = await selectHead(client, 'FOR UPDATE');
      const rows = sealBatch(head, events);
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await insertRows(client, rows.slice(i, i + ROWS_PER_INSERT));
      const last = rows[rows.length - 1];
      if (last !== undefined) await client.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [last.seq, last.hash]);
      return rows.map(toRecord);
    });
  }

  async query(query: AuditQuery): Promise<AuditRecord[]> {
    const clause = queryClause(query, (n) => `$${n}`);
    try {
      const result = await this.#live().query(`SELECT ${COLUMNS} FROM audit_events ${clause.sql}`, clause.params);
      return result.rows.map((r: RawRow) => toRecord(rowFrom(r)));
    } catch (error) {
      throw storeError(error, 'querying');
    }
  }

  async readChain<T>(fn: (reader: ChainReader) => Promise<T>): Promise<T> {
    // REPEATABLE READ: every statement of the walk sees the same snapshot while appends go on.
    return this.#transaction('reading the chain', async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const read = async <R>(doing: string, q: () => Promise<R>): Promise<R> => {
        try {
          return await q();
        } catch (error) {
          throw storeError(error, doing);
        }
      };
      return fn({
        head: () => read('reading the head', () => selectHead(client, '')),
        rows: (afterSeq, limit) =>
          read('reading the chain', async () => {
            const r = await client.query(`SELECT ${COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
            return r.rows.map((raw: RawRow) => rowFrom(raw));
          }),
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #live(): Pool {
    if (this.#closed) throw new AirlockError('AUDIT_UNAVAILABLE', 'the PostgreSQL audit store is closed: open it again');
    return this.#pool;
  }

  async #transaction<T>(doing: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#live().connect();
    } catch (error) {
      throw storeError(error, doing);
    }
    try {
      await client.query('BEGIN');
      const value = await fn(client);
      await client.query('COMMIT');
      client.release();
      return value;
    } catch (error) {
      // A failed ROLLBACK means the connection is gone: destroy it rather than reuse it.
      const lost = await client.query('ROLLBACK').then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      );
      client.release(lost);
      throw storeError(error, doing);
    }
  }
}

async function selectHead(client: PoolClient, lock: 'FOR UPDATE' | ''): Promise<ChainHead> {
  const r = await client.query(`SELECT seq, hash FROM audit_head WHERE id = 1 ${lock}`);
  const row = r.rows[0] as RawRow | undefined;
  const seq = Number(row?.['seq']);
  if (row === undefined || !Number.isSafeInteger(seq) || typeof row['hash'] !== 'string') {
    throw new AirlockError('AUDIT_CORRUPT', 'the PostgreSQL audit log has no head row: restore it from a backup');
  }
  return { seq, hash: row['hash'] };
}

async function insertRows(client: PoolClient, rows: readonly StoredRow[]): Promise<void> {
  const params: (string | number | null)[] = [];
  const tuples = rows.map((r) => {
    const base = params.length;
    params.push(r.seq, r.prevHash, r.hash, r.at, r.tenant, r.sandbox, r.run, r.kind, r.status, r.decision, r.event);
    return `(${Array.from({ length: 11 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  await client.query(`INSERT INTO audit_events (${COLUMNS}) VALUES ${tuples.join(', ')}`, params);
}
