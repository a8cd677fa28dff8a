import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/chain.ts';
import { DurableAuditSink } from '../../src/audit/durable-sink.ts';
import type { AuditEvent, AuditEventBody } from '../../src/audit/event.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import type { AuditQuery, AuditStore, ChainReader } from '../../src/audit/store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { AirlockError } from '../../src/core/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'airlock-sink-'));
after(() => rmSync(root, { recursive: true, force: true }));

function path(): string {
  return join(mkdtempSync(join(root, 'log-')), 'audit.db');
}

const body = (sandbox: string, allow = true): AuditEventBody => ({ kind: 'decision', tenant: 'acme', sandbox, door: 'tool', subject: 'readMail', allow, reason: 'R' });

/** A real store that counts transactions and can be told to fail the next N appends. */
class CountingStore implements AuditStore {
  readonly inner: SqliteAuditStore;
  readonly batches: number[] = [];
  failNext = 0;
  constructor(p: string) {
    this.inner = SqliteAuditStore.open({ path: p });
  }
  get logId(): string {
    return this.inner.logId;
  }
  append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      return Promise.reject(new AirlockError('AUDIT_UNAVAILABLE', 'the database is down'));
    }
    this.batches.push(events.length);
    return this.inner.append(events);
  }
  query(q: AuditQuery): Promise<AuditRecord[]> {
    return this.inner.query(q);
  }
  readChain<T>(fn: (reader: ChainReader) => Promise<T>): Promise<T> {
    return this.inner.readChain(fn);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

test("a run's events are one transaction per flush, durable when flush resolves", async () => {
  const p = path();
  const store = new CountingStore(p);
  const sink = new DurableAuditSink(store);
  for (let i = 0; i < 6; i += 1) sink.append(body(`sbx_${i}`));
  assert.equal(sink.pending, 6);
  const other = SqliteAuditStore.open({ path: p });
  assert.equal((await other.query({})).length, 0, 'nothing is stored before flush');
  await sink.flush();
  assert.deepEqual(store.batches, [6]);
  assert.equal(sink.pending, 0);
  assert.deepEqual((await other.query({})).map((r) => r.event.sandbox), ['sbx_0', 'sbx_1', 'sbx_2', 'sbx_3', 'sbx_4', 'sbx_5']);
  await other.close();
  await sink.close();
});

test('a failed flush rejects with the coded error, keeps the events queued in order, and the next flush writes them', async () => {
  const store = new CountingStore(path());
  const sink = new DurableAuditSink(store);
  sink.append(body('sbx_1'));
  await sink.flush();
  sink.append(body('sbx_2'));
  sink.append(body('sbx_3'));
  store.failNext = 1;
  await assert.rejects(sink.flush(), (e: unknown) => e instanceof AirlockError && e.code === 'AUDIT_UNAVAILABLE');
  assert.equal(sink.pending, 2);
  assert.deepEqual((await store.query({})).map((r) => r.event.sandbox), ['sbx_1'], 'what was recorded before is still there');
  sink.append(body('sbx_4'));
  await sink.flush();
  assert.deepEqual((await store.query({})).map((r) => r.event.sandbox), ['sbx_1', 'sbx_2', 'sbx_3', 'sbx_4']);
  assert.equal((await verifyChain(store)).ok, true);
  await sink.close();
});

test('flushes started together write in append order', async () => {
  const store = new CountingStore(path());
  const sink = new DurableAuditSink(store);
  const flushes: Promise<void>[] = [];
  for (let i = 0; i < 10; i += 1) {
    sink.append(body(`sbx_${i}`));
    flushes.push(sink.flush());
  }
  await Promise.all(flushes);
  assert.deepEqual((await store.query({})).map((r) => r.event.sandbox), Array.from({ length: 10 }, (_, i) => `sbx_${i}`));
  await sink.close();
});

test('an event with a bad tenant is refused: the next flush rejects INVALID_REQUEST, the good events around it are stored', async () => {
  const store = new CountingStore(path());
  const sink = new DurableAuditSink(store);
  sink.append(body('sbx_1'));
  sink.append({ ...body('sbx_2'), tenant: "x'; DROP TABLE audit_events; --" });
  sink.append(body('sbx_3'));
  await assert.rejects(sink.flush(), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST' && /tenant/.test(e.message));
  assert.deepEqual((await store.query({})).map((r) => r.event.sandbox), ['sbx_1', 'sbx_3']);
  await sink.flush();
  await sink.close();
});

test('the clock may go backwards: at is recorded as given, seq is the order, the chain verifies', async () => {
  const times = ['2026-03-01T10:00:00.000Z', '2026-03-01T09:59:00.000Z', '2025-12-31T23:59:59.999Z'];
  const store = new CountingStore(path());
  const sink = new DurableAuditSink(store, { now: () => new Date(times.shift() ?? 'invalid') });
  for (let i = 0; i < 3; i += 1) sink.append(body(`sbx_${i}`));
  await sink.flush();
  const all = await store.query({});
  assert.deepEqual(all.map((r) => [r.seq, r.at]), [[1, '2026-03-01T10:00:00.000Z'], [2, '2026-03-01T09:59:00.000Z'], [3, '2025-12-31T23:59:59.999Z']]);
  assert.equal((await verifyChain(store)).ok, true);
  // A clock that gives no time at all is refused, not recorded with a made-up one.
  sink.append(body('sbx_no_time'));
  await assert.rejects(sink.flush(), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST');
  assert.equal((await store.query({})).length, 3);
  await sink.close();
});

test('close flushes and closes the store; keep-store leaves it open; appends after close are reported', async () => {
  const p = path();
  const shared = SqliteAuditStore.open({ path: p });
  const sink = new DurableAuditSink(shared, { onClose: 'keep-store' });
  sink.append(body('sbx_1'));
  await sink.close();
  assert.equal((await shared.query({})).length, 1, 'flushed on close, store still open');
  sink.append(body('sbx_late'));
  await assert.rejects(sink.flush(), (e: unknown) => e instanceof AirlockError && e.code === 'AUDIT_UNAVAILABLE');
  const owning = new DurableAuditSink(shared);
  await owning.close();
  await assert.rejects(shared.query({}), (e: unknown) => e instanceof AirlockError && e.code === 'AUDIT_UNAVAILABLE');
});
