// The PostgreSQL store against a real server: Debian's PostgreSQL, started by this file in a temp
// dir on a unix socket (no TCP) and deleted afterwards. Each test gets its own database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, type ClientConfig } from 'pg';
import { PostgresAuditStore } from '../../src/audit/postgres-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { auditCommand } from '../../src/cli/audit.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { startPgCluster, type PgCluster } from './pg-cluster.ts';
import { runCheckpointConformance } from './checkpoint-conformance.ts';
import { decision, runEnded, runStoreConformance, type StoreHarness } from './store-conformance.ts';

const state: { cluster: PgCluster | null; databases: number } = { cluster: null, databases: 0 };
before(() => {
  state.cluster = startPgCluster();
});
after(() => state.cluster?.stop());

function cluster(): PgCluster {
  if (state.cluster === null) throw new Error('the cluster did not start');
  return state.cluster;
}

function configFor(database: string): ClientConfig {
  const c = cluster();
  return { host: c.host, port: c.port, user: c.user, database };
}

async function sqlOn(database: string, statements: string): Promise<void> {
  const client = new Client(configFor(database));
  await client.connect();
  try {
    await client.query(statements);
  } finally {
    await client.end();
  }
}

async function newDatabase(): Promise<string> {
  state.databases += 1;
  const name = `audit_${state.databases}`;
  await sqlOn('postgres', `CREATE DATABASE ${name}`);
  return name;
}

const TRIGGERS_OFF = 'ALTER TABLE audit_events DISABLE TRIGGER USER; ALTER TABLE audit_head DISABLE TRIGGER USER;';

const harness: StoreHarness = {
  async fresh() {
    const database = await newDatabase();
    const store = await PostgresAuditStore.open(configFor(database));
    return {
      store,
      openAnother: () => PostgresAuditStore.open(configFor(database)),
      sql: (s: string) => sqlOn(database, s),
      tamper: (s: string) => sqlOn(database, `${TRIGGERS_OFF} ${s}`),
      close: async () => {
        await store.close();
        await sqlOn('postgres', `DROP DATABASE ${database}`);
      },
    };
  },
};

runStoreConformance('postgres', harness);
runCheckpointConformance('postgres', harness);

describe('postgres audit store, several hosts', () => {
  test('four hosts appending 25 runs each at once build one gapless chain, each run contiguous', async () => {
    const database = await newDatabase();
    const hosts = await Promise.all([0, 1, 2, 3].map(() => PostgresAuditStore.open(configFor(database))));
    try {
      await Promise.all(hosts.flatMap((host, h) => Array.from({ length: 25 }, (_, i) => {
        const sandbox = `sbx_${h}_${i}`;
        return host.append([decision('acme', sandbox, true), decision('acme', sandbox, false), runEnded('acme', sandbox, 'ok')]);
      })));
      const v = await verifyChain(hosts[0]!, { pageSize: 64 });
      assert.deepEqual({ ok: v.ok, count: v.count }, { ok: true, count: 300 });
      const all = await hosts[1]!.query({});
      assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 300 }, (_, i) => i + 1));
      for (let i = 0; i < all.length; i += 3) assert.ok(all.slice(i, i + 3).every((r) => r.event.sandbox === all[i]?.event.sandbox));
    } finally {
      await Promise.all(hosts.map((h) => h.close()));
    }
  });

  test('what an append returned survives a server crash (immediate stop, no checkpoint)', async () => {
    const database = await newDatabase();
    const store = await PostgresAuditStore.open(configFor(database));
    await store.append([decision('acme', 'sbx_a', true), runEnded('acme', 'sbx_a', 'ok')]);
    await store.close();
    cluster().crashAndRestart();
    const again = await PostgresAuditStore.open(configFor(database));
    try {
      assert.deepEqual((await again.query({})).map((r) => r.event.kind), ['decision', 'run.ended']);
      assert.equal((await verifyChain(again)).ok, true);
    } finally {
      await again.close();
    }
  });

  test('an unreachable server is AUDIT_UNAVAILABLE (control: the real socket works)', async () => {
    const database = await newDatabase();
    await (await PostgresAuditStore.open(configFor(database))).close();
    await assert.rejects(PostgresAuditStore.open({ ...configFor(database), host: '/nonexistent-airlock-socket-dir', connectionTimeoutMillis: 5000 }), (e: unknown) => {
      assert.ok(e instanceof AirlockError);
      assert.equal(e.code, 'AUDIT_UNAVAILABLE');
      return true;
    });
  });

  test('airlock audit runs against PostgreSQL when AIRLOCK_AUDIT_URL names it', async () => {
    const database = await newDatabase();
    const store = await PostgresAuditStore.open(configFor(database));
    await store.append([decision('acme', 'sbx_a', false), decision('globex', 'sbx_g', false)]);
    await store.close();
    const c = cluster();
    const url = `postgresql://${c.user}@/${database}?host=${encodeURIComponent(c.host)}&port=${c.port}`;
    const run = async (args: string[]): Promise<string> => {
      const out: string[] = [];
      await auditCommand({ env: { AIRLOCK_AUDIT_URL: url }, write: (t) => Promise.resolve(void out.push(t)) }).parseAsync(args, { from: 'user' });
      return out.join('');
    };
    assert.match(await run(['verify']), /^audit chain holds: 2 records/);
    assert.deepEqual((await run(['export', '--tenant', 'globex'])).trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq), [2]);
  });
});
