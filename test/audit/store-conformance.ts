/**
 * One behaviour suite for every AuditStore (STYLE.md §14): the SQLite and PostgreSQL test files
 * each call runStoreConformance with a harness that makes a fresh, empty log per test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GENESIS_HASH, recordHash } from '../../src/audit/chain.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import type { AuditEvent, AuditEventBody } from '../../src/audit/event.ts';
import { tenantId, type AuditStore, type TenantId } from '../../src/audit/store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { AirlockError } from '../../src/core/errors.ts';

export interface FreshLog {
  readonly store: AuditStore;
  /** Another store instance on the same log, as a second host would have. */
  readonly openAnother: () => Promise<AuditStore>;
  /** Ordinary SQL on the log, with its append-only triggers in force. */
  readonly sql: (statements: string) => Promise<void>;
  /** SQL as an attacker with write access to the database would run it: triggers disabled. */
  readonly tamper: (statements: string) => Promise<void>;
  readonly close: () => Promise<void>;
}

export interface StoreHarness {
  fresh(): Promise<FreshLog>;
}

/** Event builders shared by the audit tests. */
export function ev(body: AuditEventBody, at = '2026-01-01T00:00:00.000Z'): AuditEvent {
  const event: AuditEvent = { ...body, v: 1, at };
  return event;
}

export function decision(tenant: string, sandbox: string, allow: boolean, at?: string): AuditEvent {
  return ev({ kind: 'decision', tenant, sandbox, run: `run_${sandbox}`, door: 'tool', subject: 'readMail', allow, reason: allow ? 'GRANTED' : 'TOOL_NOT_GRANTED' }, at);
}

export function runEnded(tenant: string, sandbox: string, status: 'ok' | 'timeout', at?: string): AuditEvent {
  return ev({ kind: 'run.ended', tenant, sandbox, run: `run_${sandbox}`, status, errorCode: status === 'ok' ? null : 'WALL_TIMEOUT', usage: { wallMs: 5, cpuMs: 3, memoryBytes: 1024 } }, at);
}

/** Five records for tenant acme: seq 1..5. */
async function fiveRecords(store: AuditStore): Promise<void> {
  await store.append([ev({ kind: 'sandbox.created', tenant: 'acme', sandbox: 'sbx_a', tier: 'isolate', policyHash: 'p1' })]);
  await store.append([decision('acme', 'sbx_a', true), decision('acme', 'sbx_a', false), runEnded('acme', 'sbx_a', 'ok')]);
  await store.append([ev({ kind: 'sandbox.destroyed', tenant: 'acme', sandbox: 'sbx_a', reason: 'done' })]);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof AirlockError, `expected an AirlockError, got ${String(error)}`);
    return error.code;
  }
  assert.fail('expected a rejection');
}

async function brokenAt(store: AuditStore): Promise<{ at: number; reason: string }> {
  const r = await verifyChain(store, { pageSize: 2 });
  assert.equal(r.ok, false, 'verify should fail');
  return { at: r.brokenAt, reason: r.reason };
}

/** The suite. `name` labels the implementation in the test output. */
export function runStoreConformance(name: string, harness: StoreHarness): void {
  const withLog = (title: string, fn: (log: FreshLog) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const log = await harness.fresh();
      try {
        await fn(log);
      } finally {
        await log.close();
      }
    });
  };

  describe(`${name} audit store`, () => {
    withLog('an empty log verifies with zero records', async ({ store }) => {
      assert.deepEqual(await verifyChain(store), { ok: true, count: 0, head: { seq: 0, hash: GENESIS_HASH }, checkpoint: null });
    });

    withLog('appends get seq 1..n across batches, each chained to the one before (control: verify holds)', async ({ store }) => {
      await fiveRecords(store);
      const all = await store.query({});
      assert.deepEqual(all.map((r) => r.seq), [1, 2, 3, 4, 5]);
      assert.equal(all[0]?.prevHash, GENESIS_HASH);
      for (let i = 1; i < all.length; i += 1) assert.equal(all[i]?.prevHash, all[i - 1]?.hash);
      const r1 = all[0];
      assert.equal(r1.hash, recordHash(1, GENESIS_HASH, r1.at, canonicalJson(r1.event)));
      const v = await verifyChain(store, { pageSize: 2 });
      assert.deepEqual(v, { ok: true, count: 5, head: { seq: 5, hash: all[4]?.hash }, checkpoint: null });
    });

    const tampering: [string, string, number, RegExp][] = [
      ['editing an event', `UPDATE audit_events SET event = replace(event, 'TOOL_NOT_GRANTED', 'GRANTED') WHERE seq = 3`, 3, /hash does not match/],
      ['deleting an event', 'DELETE FROM audit_events WHERE seq = 3', 3, /record 3 is missing/],
      ['reordering two events', 'UPDATE audit_events SET seq = -1 WHERE seq = 3; UPDATE audit_events SET seq = 3 WHERE seq = 4; UPDATE audit_events SET seq = 4 WHERE seq = -1', 3, /prevHash/],
      ['truncating an event', 'UPDATE audit_events SET event = substr(event, 1, 20) WHERE seq = 3', 3, /not valid JSON/],
      ['deleting the last event', 'DELETE FROM audit_events WHERE seq = 5', 5, /record 5 is missing/],
      ['moving an event to another tenant (column only)', "UPDATE audit_events SET tenant = 'other' WHERE seq = 2", 2, /tenant column/],
    ];
    for (const [what, sql, seq, reason] of tampering) {
      withLog(`${what} makes verify fail at exactly seq ${seq}`, async ({ store, tamper }) => {
        await fiveRecords(store);
        assert.equal((await verifyChain(store)).ok, true, 'control: the untouched chain holds');
        await tamper(sql);
        const broken = await brokenAt(store);
        assert.equal(broken.at, seq, broken.reason);
        assert.match(broken.reason, reason);
      });
    }

    withLog('re-hashing an edited event moves the break to the next record, never past it', async ({ store, tamper }) => {
      await fiveRecords(store);
      const r3 = (await store.query({ seq: 3 }))[0]!;
      const forged = canonicalJson({ ...r3.event, reason: 'GRANTED' });
      const hash = recordHash(3, r3.prevHash, r3.at, forged);
      await tamper(`UPDATE audit_events SET event = '${forged.replaceAll("'", "''")}', hash = '${hash}' WHERE seq = 3`);
      const broken = await brokenAt(store);
      assert.equal(broken.at, 4);
      assert.match(broken.reason, /prevHash does not match the hash of record 3/);
    });

    withLog('a well-formed record written behind the store fails at its seq (past the recorded head)', async ({ store, tamper }) => {
      await fiveRecords(store);
      const r5 = (await store.query({ seq: 5 }))[0]!;
      const forged = canonicalJson(decision('acme', 'sbx_a', true));
      const hash = recordHash(6, r5.hash, '2026-01-01T00:00:00.000Z', forged);
      await tamper(`INSERT INTO audit_events (seq, prev_hash, hash, at, tenant, sandbox, run, kind, status, decision, event)
        VALUES (6, '${r5.hash}', '${hash}', '2026-01-01T00:00:00.000Z', 'acme', 'sbx_a', 'run_sbx_a', 'decision', NULL, 'allow', '${forged}')`);
      const broken = await brokenAt(store);
      assert.equal(broken.at, 6);
      assert.match(broken.reason, /past the recorded head/);
    });

    withLog('a recorded head exposes a chain rewritten from scratch', async ({ store, tamper }) => {
      await fiveRecords(store);
      const head = (await verifyChain(store)).head;
      assert.equal((await verifyChain(store, { expect: head })).ok, true, 'control: the same chain holds against its head');
      await tamper("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_events WHERE seq = 4); DELETE FROM audit_events WHERE seq = 5");
      assert.equal((await verifyChain(store)).ok, true, 'without the anchor, a consistent truncation is invisible');
      const r = await verifyChain(store, { expect: head });
      assert.equal(r.ok, false);
      assert.equal(r.brokenAt, 5);
    });

    withLog('ordinary UPDATE and DELETE are refused by the store, and the log is unchanged', async ({ store, sql }) => {
      await fiveRecords(store);
      const before = await store.query({});
      await assert.rejects(sql("UPDATE audit_events SET kind = 'x' WHERE seq = 1"));
      await assert.rejects(sql(`UPDATE audit_events SET event = '{}' WHERE seq = 1`));
      await assert.rejects(sql('DELETE FROM audit_events WHERE seq = 1'));
      assert.deepEqual(await store.query({}), before);
      assert.equal((await verifyChain(store)).ok, true);
    });

    withLog('queries filter by tenant, sandbox, run, status, decision and time; another tenant sees nothing', async ({ store }) => {
      await fiveRecords(store);
      await store.append([decision('globex', 'sbx_g', false, '2026-02-01T00:00:00.000Z'), runEnded('globex', 'sbx_g', 'timeout', '2026-02-01T00:00:01.000Z')]);
      const acme = tenantId('acme');
      const globex = tenantId('globex');
      assert.deepEqual((await store.query({ tenant: acme })).map((r) => r.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual((await store.query({ tenant: globex })).map((r) => r.event.tenant), ['globex', 'globex']);
      assert.deepEqual(await store.query({ tenant: tenantId('initech') }), []);
      assert.deepEqual(await store.query({ tenant: globex, sandbox: 'sbx_a' }), [], 'tenant wins over every other filter');
      assert.deepEqual(await store.query({ tenant: globex, seq: 1 }), []);
      assert.deepEqual((await store.query({ decision: 'deny' })).map((r) => r.seq), [3, 6]);
      assert.deepEqual((await store.query({ tenant: acme, decision: 'deny' })).map((r) => r.seq), [3]);
      assert.deepEqual((await store.query({ status: 'timeout' })).map((r) => r.seq), [7]);
      assert.deepEqual((await store.query({ run: 'run_sbx_a' })).map((r) => r.seq), [2, 3, 4]);
      assert.deepEqual((await store.query({ since: '2026-02-01T00:00:00.000Z' })).map((r) => r.seq), [6, 7]);
      assert.deepEqual((await store.query({ until: '2026-02-01T00:00:00.000Z' })).map((r) => r.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual((await store.query({ afterSeq: 2, limit: 2 })).map((r) => r.seq), [3, 4]);
      // Newest first, by kind, backwards from a seq: how the console pages runs.
      assert.deepEqual((await store.query({ kind: 'run.ended' })).map((r) => r.seq), [4, 7]);
      assert.deepEqual((await store.query({ tenant: acme, kind: 'run.ended' })).map((r) => r.seq), [4]);
      assert.deepEqual((await store.query({ order: 'desc', limit: 3 })).map((r) => r.seq), [7, 6, 5]);
      assert.deepEqual((await store.query({ order: 'desc', beforeSeq: 5, limit: 2 })).map((r) => r.seq), [4, 3]);
      assert.deepEqual((await store.query({ tenant: globex, order: 'desc', beforeSeq: 6 })).map((r) => r.seq), [], 'tenant wins over paging');
      assert.equal(await codeOf(store.query({ kind: 'nope' as 'decision' })), 'INVALID_REQUEST');
      assert.equal(await codeOf(store.query({ order: 'desc; DROP TABLE audit_events' as 'desc' })), 'INVALID_REQUEST');
    });

    withLog('a tenant id with SQL or path characters is refused before it reaches SQL', async ({ store }) => {
      await fiveRecords(store);
      for (const bad of ["acme' OR '1'='1", '../acme', 'acme;--', 'ACME', '', 'a'.repeat(64), 'acme\u0000']) {
        assert.throws(() => tenantId(bad), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST', bad);
        assert.equal(await codeOf(store.query({ tenant: bad as TenantId })), 'INVALID_REQUEST', `query with ${JSON.stringify(bad)}`);
        assert.equal(await codeOf(store.append([decision(bad, 'sbx_x', true)])), 'INVALID_REQUEST', `append with ${JSON.stringify(bad)}`);
      }
      assert.equal((await store.query({})).length, 5, 'nothing was appended');
      assert.equal((await verifyChain(store)).ok, true);
    });

    withLog('malformed events are refused whole, and nothing of their batch is stored', async ({ store }) => {
      await fiveRecords(store);
      const good = decision('acme', 'sbx_a', true);
      const bad: unknown[] = [{ ...good, v: 2 }, { ...good, at: 'yesterday' }, { ...good, kind: 'run.hacked' }, { ...good, sandbox: '' }, { ...good, allow: 'yes' }];
      for (const b of bad) assert.equal(await codeOf(store.append([good, b as AuditEvent])), 'INVALID_REQUEST', JSON.stringify(b));
      assert.equal((await store.query({})).length, 5);
    });

    withLog('a clock that goes backwards is recorded as given; seq keeps the order and verify holds', async ({ store }) => {
      await store.append([decision('acme', 'sbx_a', true, '2026-05-01T12:00:00.000Z')]);
      await store.append([decision('acme', 'sbx_a', false, '2026-05-01T11:00:00.000Z'), decision('acme', 'sbx_a', true, '2020-01-01T00:00:00.000Z')]);
      const all = await store.query({});
      assert.deepEqual(all.map((r) => r.at), ['2026-05-01T12:00:00.000Z', '2026-05-01T11:00:00.000Z', '2020-01-01T00:00:00.000Z']);
      assert.deepEqual(all.map((r) => r.seq), [1, 2, 3]);
      assert.equal((await verifyChain(store)).ok, true);
    });

    withLog('two store instances appending at once build one gapless chain', async ({ store, openAnother }) => {
      const other = await openAnother();
      try {
        const batches = Array.from({ length: 40 }, (_, i) => [decision('acme', `sbx_${i}`, true), runEnded('acme', `sbx_${i}`, 'ok')]);
        await Promise.all(batches.map((b, i) => (i % 2 === 0 ? store : other).append(b)));
        const all = await store.query({});
        assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 80 }, (_, i) => i + 1));
        // Each batch stays contiguous: an append is one transaction.
        for (let i = 0; i < all.length; i += 2) assert.equal(all[i]?.event.sandbox, all[i + 1]?.event.sandbox);
        assert.deepEqual(await verifyChain(other), { ok: true, count: 80, head: { seq: 80, hash: all[79]?.hash }, checkpoint: null });
      } finally {
        await other.close();
      }
    });

    withLog('readChain sees one snapshot while appends go on', async ({ store }) => {
      await fiveRecords(store);
      const seen = await store.readChain(async (reader) => {
        const head = await reader.head();
        await store.append([decision('acme', 'sbx_a', true)]);
        return { head, rows: (await reader.rows(0, 100)).length, after: await reader.head() };
      });
      assert.deepEqual({ seq: seen.head.seq, rows: seen.rows, afterSeq: seen.after.seq }, { seq: 5, rows: 5, afterSeq: 5 });
      assert.equal((await verifyChain(store)).count, 6);
    });

    withLog('a closed store refuses appends with AUDIT_UNAVAILABLE; a reopened one continues the chain', async ({ store, openAnother }) => {
      await fiveRecords(store);
      await store.close();
      assert.equal(await codeOf(store.append([decision('acme', 'sbx_a', true)])), 'AUDIT_UNAVAILABLE');
      const again = await openAnother();
      try {
        const [rec] = await again.append([decision('acme', 'sbx_a', true)]);
        assert.equal(rec?.seq, 6);
        assert.equal((await verifyChain(again)).ok, true);
      } finally {
        await again.close();
      }
    });
  });
}
