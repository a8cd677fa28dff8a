/**
 * Checkpointing over every AuditStore (STYLE.md §14): the SQLite and PostgreSQL test files each
 * call runCheckpointConformance with their harness. The key and the file witness live in a temp
 * directory per test; an in-memory witness stands for an operator's hook (a remote witness).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkpointProblem, type Checkpoint } from '../../src/audit/checkpoint.ts';
import { loadCheckpointKey, type CheckpointKey } from '../../src/audit/checkpoint-key.ts';
import { FileWitness, type CheckpointWitness } from '../../src/audit/checkpoint-witness.ts';
import { CheckpointedStore } from '../../src/audit/checkpointed-store.ts';
import type { AuditStore } from '../../src/audit/store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { decision, type FreshLog, type StoreHarness } from './store-conformance.ts';

/** An operator's witness: keeps what it is given; `hold` makes publish wait until released. */
class HookWitness implements CheckpointWitness {
  readonly name = 'the test hook';
  readonly kept: Checkpoint[] = [];
  #gate: Promise<void> = Promise.resolve();
  #open: () => void = () => undefined;
  failing = false;

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open();
  }

  async publish(cp: Checkpoint): Promise<void> {
    await this.#gate;
    if (this.failing) throw new Error('the remote witness is down');
    this.kept.push(cp);
  }

  latest(log: string): Promise<Checkpoint | null> {
    return Promise.resolve(this.kept.filter((c) => c.log === log).at(-1) ?? null);
  }
}

/** Polls `check` until it holds or `ms` pass (never a fixed sleep). */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Setup {
  readonly log: FreshLog;
  readonly key: CheckpointKey;
  readonly file: FileWitness;
  readonly hook: HookWitness;
  readonly done: () => Promise<void>;
}

async function setup(harness: StoreHarness): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cpconf-'));
  const log = await harness.fresh();
  const key = loadCheckpointKey({ path: join(dir, 'checkpoint.key'), home: undefined, create: 'if-missing' });
  return {
    log,
    key,
    file: new FileWitness({ dir, home: undefined }),
    hook: new HookWitness(),
    done: async () => {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function checkpointed(s: Setup, store: AuditStore, every: { everyRecords: number; everyMs: number }): CheckpointedStore {
  return new CheckpointedStore(store, { privateKey: s.key.privateKey, publicKey: s.key.publicKey, witnesses: [s.file, s.hook], ...every });
}

async function appendOneByOne(store: AuditStore, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await store.append([decision('acme', 'sbx_a', i % 2 === 0)]);
}

export function runCheckpointConformance(name: string, harness: StoreHarness): void {
  describe(`${name}: signed checkpoints`, () => {
    test('signs every N records and at close, to every witness; appends never wait for a witness', async () => {
      const s = await setup(harness);
      try {
        const store = checkpointed(s, s.log.store, { everyRecords: 3, everyMs: 600_000 });
        s.hook.hold();
        // Seven appends resolve while the hook's publish is held: the hot path never waits for it.
        await appendOneByOne(store, 7);
        assert.equal(s.hook.kept.length, 0, 'nothing reached the held witness yet');
        s.hook.release();
        await until('the hook holds a checkpoint', () => s.hook.kept.length > 0);
        await store.close();
        const seqs = s.hook.kept.map((c) => c.seq);
        // Signed at N records (the head as it then was) and at close; never once per record.
        assert.ok(seqs.length >= 2 && seqs.length <= 3, String(seqs));
        assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'in order');
        assert.ok((seqs[0] ?? 0) >= 3, String(seqs));
        assert.equal(seqs.at(-1), 7, 'close signed the final head');
        assert.deepEqual(await s.file.latest(store.logId), s.hook.kept.at(-1));
        for (const cp of s.hook.kept) assert.equal(checkpointProblem(cp, store.logId, [s.key.publicKey]), null);
      } finally {
        await s.done();
      }
    });

    test('signs T ms after the first unsigned record when fewer than N came', async () => {
      const s = await setup(harness);
      try {
        const store = checkpointed(s, s.log.store, { everyRecords: 1000, everyMs: 20 });
        await store.append([decision('acme', 'sbx_a', true), decision('acme', 'sbx_a', false)]);
        await until('the timer signed seq 2', () => s.hook.kept.at(-1)?.seq === 2);
        assert.equal(s.hook.kept.length, 1, 'one checkpoint for the batch');
        await store.close();
        assert.equal(s.hook.kept.length, 1, 'nothing new to sign at close');
      } finally {
        await s.done();
      }
    });

    test('verify with the checkpoint catches a deleted tail that the chain alone misses; control: the untouched log passes', async () => {
      const s = await setup(harness);
      try {
        const store = checkpointed(s, s.log.store, { everyRecords: 1000, everyMs: 600_000 });
        await appendOneByOne(store, 6);
        await store.close();
        const cp = await s.file.latest(store.logId);
        assert.equal(cp?.seq, 6);
        const reader = await s.log.openAnother();
        try {
          const checkpoint = { checkpoint: cp, trusted: [s.key.publicKey] };
          assert.deepEqual((await verifyChain(reader, { checkpoint })).ok, true);
          await s.log.tamper('DELETE FROM audit_events WHERE seq > 4; UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_events WHERE seq = 4) WHERE id = 1;');
          assert.equal((await verifyChain(reader)).ok, true, 'the chain alone holds after the attack');
          const caught = await verifyChain(reader, { checkpoint });
          assert.deepEqual(caught.ok ? null : { code: caught.code, brokenAt: caught.brokenAt }, { code: 'AUDIT_TRUNCATED', brokenAt: 5 });
          const stranger = loadCheckpointKey({ path: join(mkdtempSync(join(tmpdir(), 'airlock-cpconf-')), 'k'), home: undefined, create: 'if-missing' });
          const unknown = await verifyChain(reader, { checkpoint: { checkpoint: cp, trusted: [stranger.publicKey] } });
          assert.equal(unknown.ok ? null : unknown.code, 'AUDIT_CHECKPOINT_INVALID');
        } finally {
          await reader.close();
        }
      } finally {
        await s.done();
      }
    });

    test('a host whose log is truncated under it refuses further appends and signs nothing more; a restarted host refuses too', async () => {
      const s = await setup(harness);
      try {
        const store = checkpointed(s, s.log.store, { everyRecords: 5, everyMs: 600_000 });
        await appendOneByOne(store, 5);
        await until('seq 5 is signed', async () => (await s.file.latest(store.logId))?.seq === 5);
        await s.log.tamper('DELETE FROM audit_events WHERE seq > 2; UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_events WHERE seq = 2) WHERE id = 1;');
        // The host appends again: its record lands at seq 3, below its last one (5): refused from then on.
        await appendOneByOne(store, 1);
        await assert.rejects(store.append([decision('acme', 'sbx_a', true)]), { code: 'AUDIT_TRUNCATED' });
        assert.equal((await s.file.latest(store.logId))?.seq, 5, 'the rewritten head was not signed');
        await store.close();
        assert.deepEqual(s.hook.kept.map((c) => c.seq), [5]);

        const restarted = checkpointed(s, await s.log.openAnother(), { everyRecords: 5, everyMs: 600_000 });
        await assert.rejects(restarted.append([decision('acme', 'sbx_a', true)]), { code: 'AUDIT_TRUNCATED' });
        assert.equal((await restarted.readChain((r) => r.head())).seq, 3, 'nothing was appended after the first record that went back');
        // Someone extends the log past the checkpoint again without checkpoints: record 5 exists, with another hash.
        const raw = await s.log.openAnother();
        await appendOneByOne(raw, 3);
        await raw.close();
        const third = checkpointed(s, await s.log.openAnother(), { everyRecords: 5, everyMs: 600_000 });
        await assert.rejects(third.append([decision('acme', 'sbx_a', true)]), { code: 'AUDIT_CHAIN_BROKEN', message: /record 5 .* differs from the checkpoint/ });
        assert.equal((await third.readChain((r) => r.head())).seq, 6);
        await third.close();
        await restarted.close();
      } finally {
        await s.done();
      }
    });

    test('a witness that fails does not stop appends; close reports it, and the other witness has the checkpoint', async () => {
      const s = await setup(harness);
      try {
        const store = checkpointed(s, s.log.store, { everyRecords: 1000, everyMs: 600_000 });
        s.hook.failing = true;
        await appendOneByOne(store, 3);
        await assert.rejects(store.close(), { code: 'AUDIT_UNAVAILABLE', message: /did not reach the witness the test hook: the remote witness is down/ });
        assert.equal((await s.file.latest(store.logId))?.seq, 3);
      } finally {
        await s.done();
      }
    });

    test('a witness that never answers does not hold close() forever, nor keep the checkpoint from the file witness', async () => {
      const s = await setup(harness);
      try {
        const store = new CheckpointedStore(s.log.store, { privateKey: s.key.privateKey, publicKey: s.key.publicKey, witnesses: [s.file, s.hook], everyRecords: 1000, everyMs: 600_000, publishMs: 1500 });
        s.hook.hold();
        await appendOneByOne(store, 2);
        await assert.rejects(store.close(), { code: 'AUDIT_UNAVAILABLE', message: /the test hook: no answer within 1500 ms/ });
        assert.equal((await s.file.latest(store.logId))?.seq, 2);
        s.hook.release();
      } finally {
        await s.done();
      }
    });
  });
}
