// Audit durability, observed from outside the code under test, on a real SQLite file and real
// isolate runs: the store's device flush (fdatasync of the WAL) is the real one, wrapped to count
// it and to note, from a separate connection, which records it covers. No timing: where the tests
// need concurrency they hold a flush until the runs they wait for have called the sink.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fdatasync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import type { Checkpoint } from '../../src/audit/checkpoint.ts';
import type { CheckpointWitness } from '../../src/audit/checkpoint-witness.ts';
import { CheckpointedStore } from '../../src/audit/checkpointed-store.ts';
import { DurableAuditSink } from '../../src/audit/durable-sink.ts';
import type { AuditEventBody, AuditSink } from '../../src/audit/event.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import type { AuditDurability } from '../../src/audit/wal-sync.ts';
import { createAirlock, type Airlock } from '../../src/runtime/airlock.ts';
import type { RunResult } from '../../src/core/result.ts';

const root = mkdtempSync(join(tmpdir(), 'airlock-durability-'));
after(() => rmSync(root, { recursive: true, force: true }));
const CHILD = join(import.meta.dirname, 'durability-child.ts');

/** The real fdatasync, counted; `covered` is the highest seq a finished one is known to cover. */
class ObservedDisk {
  syncs = 0;
  covered = 0;
  /** True while a held flush waits for release(). */
  waiting = false;
  /** Resolves the held first flush (see `holdFirst`). */
  release: () => void = () => undefined;
  readonly #reader: DatabaseSync;
  #held: Promise<void> | null = null;

  constructor(path: string) {
    this.#reader = new DatabaseSync(path, { readOnly: true });
  }

  /** The first flush waits for release(): the disk is slow, so runs pile up behind it. */
  holdFirst(): void {
    this.#held = new Promise((resolve) => (this.release = resolve));
  }

  readonly fdatasync = async (fd: number): Promise<void> => {
    // What is committed when the flush starts is in the file's dirty pages: this flush covers it.
    const row = this.#reader.prepare('SELECT coalesce(max(seq), 0) AS seq FROM audit_events').get();
    const seq = Number(row?.['seq']);
    const held = this.#held;
    this.#held = null;
    if (held !== null) {
      this.waiting = true;
      await held;
      this.waiting = false;
    }
    await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e === null ? resolve() : reject(e))));
    this.syncs += 1;
    if (seq > this.covered) this.covered = seq;
  };

  close(): void {
    this.#reader.close();
  }
}

/** A sink that passes everything on and counts flushes: the runtime's calls, seen from outside it. */
class CountingSink implements AuditSink {
  flushes = 0;
  readonly #inner: AuditSink;
  readonly #onFlush: (n: number) => void;
  constructor(inner: AuditSink, onFlush: (n: number) => void) {
    this.#inner = inner;
    this.#onFlush = onFlush;
  }
  append(event: AuditEventBody): void {
    this.#inner.append(event);
  }
  flush(): Promise<void> {
    this.flushes += 1;
    this.#onFlush(this.flushes);
    return this.#inner.flush();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

interface Harness {
  readonly airlock: Airlock;
  readonly disk: ObservedDisk;
  readonly store: SqliteAuditStore;
  readonly sink: CountingSink;
}

async function harness(durability: AuditDurability, onFlush: (n: number, disk: ObservedDisk) => void = () => undefined): Promise<Harness> {
  const home = mkdtempSync(join(root, 'home-'));
  const path = join(home, 'audit.db');
  // Made first, so the observer's connection has a file to open.
  await SqliteAuditStore.open({ path }).close();
  const disk = new ObservedDisk(path);
  const store = SqliteAuditStore.open({ path, durability, ...(durability === 'batched' ? { flushMs: 1000 } : {}), fdatasync: disk.fdatasync });
  const sink = new CountingSink(new DurableAuditSink(store), (n) => onFlush(n, disk));
  return { airlock: createAirlock({ home, audit: sink }), disk, store, sink };
}

/** Every seq of the run's records: its own (run.started, decisions, run.ended) and its sandbox's. */
async function seqsOf(store: SqliteAuditStore, result: RunResult): Promise<number[]> {
  const own = await store.query({ run: result.id });
  const sandbox = own[0]?.event.sandbox;
  assert.ok(sandbox !== undefined, `run ${result.id} has no records`);
  const box = await store.query({ sandbox });
  const seqs = [...new Set([...own, ...box].map((r) => r.seq))];
  assert.ok(seqs.length >= 4, `run ${result.id}: sandbox.created, run.started, run.ended, sandbox.destroyed`);
  return seqs;
}

/** Runs and notes, the moment each result is back, what the disk had covered by then. */
async function runNoting(h: Harness, code: string): Promise<{ result: RunResult; coveredAtReturn: number }> {
  const result = await h.airlock.run({ tenant: 'dur', code });
  const coveredAtReturn = h.disk.covered;
  assert.equal(result.status, 'ok', JSON.stringify(result.error));
  return { result, coveredAtReturn };
}

test("durable: a run's result comes back only after a device flush that covers every one of its events", async () => {
  const h = await harness('durable');
  try {
    for (let i = 0; i < 4; i++) {
      const { result, coveredAtReturn } = await runNoting(h, `export default ${i}`);
      for (const seq of await seqsOf(h.store, result)) assert.ok(seq <= coveredAtReturn, `record ${seq} of ${result.id} was not flushed when its result returned (flushed up to ${coveredAtReturn})`);
    }
    assert.ok(h.disk.syncs >= 4, 'one flush per run when runs come one after another');
  } finally {
    await h.airlock.close();
    h.disk.close();
  }
});

test('control: batched returns a result before its flush (the disk is held), and the flush comes with the window, not with the result', async () => {
  const h = await harness('batched');
  h.disk.holdFirst();
  try {
    const { result, coveredAtReturn } = await runNoting(h, 'export default 1');
    const seqs = await seqsOf(h.store, result);
    assert.deepEqual({ coveredAtReturn, syncs: h.disk.syncs }, { coveredAtReturn: 0, syncs: 0 }, 'no flush had finished when the result came back');
    // The events are in the log (the OS has them) although no flush has finished.
    assert.ok(Math.max(...seqs) >= 4);
  } finally {
    h.disk.release();
    await h.airlock.close();
    h.disk.close();
  }
  assert.ok(h.disk.syncs >= 1, 'close flushes what the window had not');
});

test('group commit: concurrent runs share flushes (fewer flushes than runs), and each result still waits for the flush covering its events', async () => {
  const N = 8;
  // The first flush of the runs is held until every run has asked for its own: those then share what follows.
  let releaseAt = Infinity;
  const h = await harness('durable', (n, disk) => {
    if (n === releaseAt) disk.release();
  });
  try {
    await h.airlock.prewarm('dur');
    await h.airlock.run({ tenant: 'dur', code: 'export default 0' });
    const [flushesBefore, syncsBefore] = [h.sink.flushes, h.disk.syncs];
    releaseAt = flushesBefore + N;
    h.disk.holdFirst();
    const runs = await Promise.all(Array.from({ length: N }, (_, i) => runNoting(h, `export default ${i}`)));
    assert.equal(h.sink.flushes - flushesBefore, N, 'one flush call per run');
    for (const { result, coveredAtReturn } of runs) {
      for (const seq of await seqsOf(h.store, result)) assert.ok(seq <= coveredAtReturn, `record ${seq} of ${result.id} was not flushed when its result returned`);
    }
    const syncs = h.disk.syncs - syncsBefore;
    assert.ok(syncs < N, `${syncs} device flushes for ${N} concurrent runs`);
    assert.ok(syncs >= 1);
  } finally {
    h.disk.release();
    await h.airlock.close();
    h.disk.close();
  }
});

test('control: the same runs one after another take a device flush each', async () => {
  const N = 8;
  const h = await harness('durable');
  try {
    await h.airlock.prewarm('dur');
    const before = h.disk.syncs;
    for (let i = 0; i < N; i++) await runNoting(h, `export default ${i}`);
    assert.ok(h.disk.syncs - before >= N, `${h.disk.syncs - before} flushes for ${N} runs in a row`);
  } finally {
    await h.airlock.close();
    h.disk.close();
  }
});

/** Starts the child, collects the run ids it prints, SIGKILLs it once it says "ready". */
function killedChild(mode: AuditDurability, home: string): Promise<{ ids: string[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, mode, home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.endsWith('ready\n')) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ ids: out.split('\n').filter((l) => l.startsWith('run_')), signal, stderr }));
  });
}

for (const mode of ['batched', 'durable'] as const) {
  test(`${mode}: airlock SIGKILLed after its results came back loses none of their events, and the chain verifies`, async () => {
    const home = mkdtempSync(join(root, `kill-${mode}-`));
    const { ids, signal, stderr } = await killedChild(mode, home);
    assert.equal(signal, 'SIGKILL', stderr);
    assert.equal(ids.length, 12, stderr);
    const store = SqliteAuditStore.open({ path: join(home, 'audit.db') });
    try {
      for (const id of ids) {
        const kinds = (await store.query({ run: id })).map((r) => r.event.kind);
        assert.ok(kinds.includes('run.started') && kinds.includes('run.ended'), `run ${id} lost events: ${kinds.join(', ')}`);
      }
      const v = await verifyChain(store);
      assert.equal(v.ok, true, JSON.stringify(v));
      // Control: the event the child appended without a flush is gone, so it really died unflushed
      // (a clean exit would have written it at close).
      assert.equal((await store.query({ sandbox: 'sbx_never_flushed' })).length, 0);
    } finally {
      await store.close();
    }
  });
}

/** A witness that keeps checkpoints in memory, for the test to look at. */
class ListWitness implements CheckpointWitness {
  readonly name = 'list';
  readonly kept: Checkpoint[] = [];
  publish(cp: Checkpoint): Promise<void> {
    this.kept.push(cp);
    return Promise.resolve();
  }
  latest(): Promise<Checkpoint | null> {
    return Promise.resolve(this.kept.at(-1) ?? null);
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(check(), `never: ${what}`);
}

for (const mode of ['batched', 'durable'] as const) {
  test(`${mode}: a signed checkpoint covers only records already on disk (a power loss can't leave one the log contradicts)`, async () => {
    const path = join(mkdtempSync(join(root, `cp-${mode}-`)), 'audit.db');
    await SqliteAuditStore.open({ path }).close();
    const disk = new ObservedDisk(path);
    const witness = new ListWitness();
    const store = new CheckpointedStore(SqliteAuditStore.open({ path, durability: mode, fdatasync: disk.fdatasync }), { ...generateKeyPairSync('ed25519'), witnesses: [witness], everyRecords: 1 });
    const sink = new DurableAuditSink(store);
    try {
      sink.append({ kind: 'sandbox.destroyed', tenant: 'acme', sandbox: 'sbx_warm', reason: 'first' });
      await sink.flush();
      await until('the first checkpoint', () => witness.kept.length === 1);
      disk.holdFirst();
      sink.append({ kind: 'sandbox.destroyed', tenant: 'acme', sandbox: 'sbx_cp', reason: 'signed?' });
      // Durable: the flush itself waits for the held disk; batched: it returns, the checkpoint must not.
      const flushed = sink.flush();
      if (mode === 'batched') await flushed;
      await until('a flush reached the (held) disk', () => disk.waiting);
      const stored = await store.query({ sandbox: 'sbx_cp' });
      assert.equal(stored.length, 1, 'the record is in the log (committed)');
      assert.equal(witness.kept.length, 1, 'no checkpoint for it while the disk has not flushed it');
      disk.release();
      await flushed;
      await until('its checkpoint', () => witness.kept.length === 2);
      for (const cp of witness.kept) assert.ok(cp.seq <= disk.covered, `checkpoint at seq ${cp.seq} signed before the disk had it (flushed up to ${disk.covered})`);
      assert.equal(witness.kept[1]?.seq, stored[0]?.seq, 'control: once flushed, it is signed');
    } finally {
      disk.release();
      await sink.close();
      disk.close();
    }
  });
}
