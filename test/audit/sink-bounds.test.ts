// The audit queue is bounded. A long exec's events are written in the background once `flushAt`
// of them wait, not all held in memory until it ends; and `room()` is back-pressure: while
// `maxPending` events wait and the store can't take them, producers wait or are refused. The
// egress gateway asks for room before each request, so a guest can't outrun a failing log: its
// request is refused (AUDIT_UNAVAILABLE) and the upstream sees nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditRecord } from '../../src/audit/chain.ts';
import { DurableAuditSink } from '../../src/audit/durable-sink.ts';
import type { AuditEvent, AuditEventBody } from '../../src/audit/event.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import type { AuditQuery, AuditStore, ChainReader } from '../../src/audit/store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { EgressGateway } from '../../src/egress/gateway.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { noSecrets, startUpstream } from '../egress/helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'airlock-bounds-'));
after(() => rmSync(root, { recursive: true, force: true }));

const body = (sandbox: string): AuditEventBody => ({ kind: 'decision', tenant: 'acme', sandbox, door: 'tool', subject: 'readMail', allow: false, reason: 'R' });

/** A real SQLite store that can be told to fail while `down` is set (the disk is full, say). */
class FlakyStore implements AuditStore {
  readonly inner = SqliteAuditStore.open({ path: join(mkdtempSync(join(root, 'log-')), 'audit.db') });
  down = false;
  get logId(): string {
    return this.inner.logId;
  }
  append(events: readonly AuditEvent[]): Promise<readonly AuditRecord[]> {
    return this.down ? Promise.reject(new AirlockError('AUDIT_UNAVAILABLE', 'the disk is full')) : this.inner.append(events);
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

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`never: ${what}`);
}

test('past flushAt, queued events are written in the background, without a flush; below it they wait for one', async () => {
  const store = new FlakyStore();
  const sink = new DurableAuditSink(store, { flushAt: 100, maxPending: 200 });
  const queued = (): number => sink.pending;
  for (let i = 0; i < 50; i++) sink.append(body(`sbx_${i}`));
  await sleep(50);
  assert.equal(queued(), 50, 'control: under flushAt nothing is written before a flush');
  assert.equal((await store.query({})).length, 0);
  for (let i = 0; i < 950; i++) sink.append(body(`sbx_${50 + i}`));
  // Stored once committed and fsynced (the fsync runs off this thread, after the rows are visible).
  await until('the long exec\'s events are durable without a flush', async () => (await store.query({})).length >= 900 && queued() < 100);
  await sink.flush();
  assert.equal((await store.query({})).length, 1000);
  assert.equal((await verifyChain(store)).ok, true, 'background writes keep the chain whole and in order');
  await sink.close();
});

test('room() waits while the queue is full and rejects while the store is down; the gateway then refuses, and the upstream sees nothing', async () => {
  const up = await startUpstream();
  const store = new FlakyStore();
  const sink = new DurableAuditSink(store, { flushAt: 10, maxPending: 10 });
  const gateway = new EgressGateway({ audit: sink, secrets: noSecrets });
  const ctx = { tenant: 'acme', sandbox: 'sbx_bp', policy: compilePolicy({ version: 1, network: { routes: [{ host: '127.0.0.1', scheme: 'http', port: up.port }] } }) };
  const url = `http://127.0.0.1:${up.port}/x`;
  try {
    // Control: with room in the queue, a request passes and is recorded.
    assert.equal((await gateway.fetch(ctx, { method: 'GET', url, headers: [] })).status, 200);
    store.down = true;
    for (let i = 0; i < 12; i++) sink.append(body(`sbx_fill_${i}`));
    await assert.rejects(sink.room(), (e: unknown) => e instanceof AirlockError && e.code === 'AUDIT_UNAVAILABLE');
    const seen = up.seen.length;
    await assert.rejects(gateway.fetch(ctx, { method: 'GET', url, headers: [] }), (e: unknown) => e instanceof AirlockError && e.code === 'AUDIT_UNAVAILABLE');
    assert.equal(up.seen.length, seen, 'the upstream saw no request the log could not take');
    // The store recovers: the queue drains, and requests pass again.
    store.down = false;
    await sink.room();
    assert.ok(sink.pending < 10);
    assert.equal((await gateway.fetch(ctx, { method: 'GET', url, headers: [] })).status, 200);
    await sink.flush();
    assert.equal((await verifyChain(store)).ok, true);
  } finally {
    await gateway.close();
    await sink.close();
    await up.close();
  }
});
