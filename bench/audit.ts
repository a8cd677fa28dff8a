// Audit log figures, with their baselines measured in the same run:
//   audit_append_per_s          durable events/s through DurableAuditSink + SQLite, flushed as a run
//                               writes them (6 events: started, 3 decisions, ended, destroyed)
//   audit_append_single_per_s   baseline: the same with one event per flush (no batching)
//   audit_fsync_floor_per_s     baseline: the same bytes appended to a plain file, one fdatasync per
//                               6 events: what durability costs on this disk with no database at all
//   audit_verify_per_s          records/s that verifyChain walks (read, parse, hash, compare)
//   audit_sha256_per_s          baseline: records/s of hashing alone, on the same encodings
//   audit_group_{1,50}_per_s    durable events/s with 1 and 50 runs at once, each appending its 6
//                               events and flushing (group commit shares a device flush)
//   audit_group_50_flushes_per_run  device flushes (fdatasync of the WAL) per run at 50 at once
//   audit_batched_{1,50}_per_s  the same in 'batched' mode (flushMs 5)
//   audit_open_ms               opening a log of OPEN_RECORDS records (header, schema, the pages an
//                               append reads); audit_open_quick_check_ms: baseline, the same file's
//                               PRAGMA quick_check, which every open ran before
// Medians over several rounds. Run alone: node bench/audit.ts
import { closeSync, fdatasync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordHash } from '../src/audit/chain.ts';
import { canonicalJson } from '../src/core/canonical-json.ts';
import { DurableAuditSink } from '../src/audit/durable-sink.ts';
import type { AuditEvent, AuditEventBody } from '../src/audit/event.ts';
import { SqliteAuditStore } from '../src/audit/sqlite-store.ts';
import { verifyChain } from '../src/audit/verify.ts';
import type { AuditDurability } from '../src/audit/wal-sync.ts';

const ROUNDS = 5;
const FLUSHES_PER_ROUND = 200;
const VERIFY_RECORDS = 6000;
const GROUP_RUNS = 400;
const OPEN_RECORDS = 100_000;

function runEvents(i: number): AuditEventBody[] {
  const base = { tenant: 'bench', sandbox: `sbx_${i}`, run: `run_${i}` } as const;
  return [
    { ...base, kind: 'run.started', tier: 'isolate', codeHash: 'c'.repeat(64), code: 'export default async (tools) => (await tools.readMail({ id: 1 })).subject;', language: 'js', policyHash: 'p'.repeat(64) },
    { ...base, kind: 'decision', door: 'tool', subject: 'readMail', allow: true, reason: 'GRANTED' },
    { ...base, kind: 'decision', door: 'network', subject: 'example.com:443', allow: false, reason: 'EGRESS_NOT_GRANTED' },
    { ...base, kind: 'decision', door: 'limit', subject: 'toolCalls', allow: false, reason: 'LIMIT_TOOL_CALLS' },
    { ...base, kind: 'run.ended', status: 'ok', errorCode: null, usage: { wallMs: 3, cpuMs: 2, memoryBytes: 4_000_000 } },
    { ...base, kind: 'sandbox.destroyed', reason: 'done' },
  ];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function appendRate(dir: string, perFlush: number): Promise<number> {
  // One long-lived log, as a host keeps: a warm-up round first, so the WAL has reached its
  // working size and is being recycled after checkpoints, as it is in steady state.
  const sink = new DurableAuditSink(SqliteAuditStore.open({ path: join(dir, `append-${perFlush}.db`) }));
  const rates: number[] = [];
  try {
    for (let round = 0; round <= ROUNDS; round += 1) {
      const events = Array.from({ length: FLUSHES_PER_ROUND }, (_, i) => runEvents(round * FLUSHES_PER_ROUND + i)).flat();
      const started = performance.now();
      for (let i = 0; i < events.length; i += perFlush) {
        for (const e of events.slice(i, i + perFlush)) sink.append(e);
        await sink.flush();
      }
      if (round > 0) rates.push(events.length / ((performance.now() - started) / 1000));
    }
  } finally {
    await sink.close();
  }
  return median(rates);
}

function fsyncFloor(dir: string): number {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const fd = openSync(join(dir, `floor-${round}.jsonl`), 'a');
    const lines = Array.from({ length: FLUSHES_PER_ROUND }, (_, i) => runEvents(i).map((e) => `${canonicalJson({ ...e, v: 1, at: new Date().toISOString() })}\n`).join(''));
    const started = performance.now();
    for (const batch of lines) {
      writeSync(fd, batch);
      fdatasyncSync(fd);
    }
    rates.push((lines.length * 6) / ((performance.now() - started) / 1000));
    closeSync(fd);
  }
  return median(rates);
}

async function verifyRates(dir: string): Promise<{ verify: number; sha256: number }> {
  const store = SqliteAuditStore.open({ path: join(dir, 'verify.db') });
  const at = new Date().toISOString();
  const events: AuditEvent[] = Array.from({ length: VERIFY_RECORDS / 6 }, (_, i) => runEvents(i)).flat().map((e): AuditEvent => ({ ...e, v: 1, at }));
  for (let i = 0; i < events.length; i += 600) await store.append(events.slice(i, i + 600));
  const verify: number[] = [];
  const sha: number[] = [];
  const encoded = events.map((e) => canonicalJson(e));
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    const r = await verifyChain(store);
    if (!r.ok || r.count !== VERIFY_RECORDS) throw new Error(`bench chain did not verify: ${JSON.stringify(r)}`);
    verify.push(VERIFY_RECORDS / ((performance.now() - started) / 1000));
    const t = performance.now();
    for (const [i, json] of encoded.entries()) recordHash(i + 1, 'f'.repeat(64), at, json);
    sha.push(VERIFY_RECORDS / ((performance.now() - t) / 1000));
  }
  await store.close();
  return { verify: median(verify), sha256: median(sha) };
}

/**
 * Events/s with `concurrent` runs at once, each appending a run's 6 events and flushing, on one
 * long-lived log; and device flushes per run, counted at the real fdatasync.
 */
async function groupRate(dir: string, durability: AuditDurability, concurrent: number): Promise<{ perS: number; flushesPerRun: number }> {
  let flushes = 0;
  const counted = (fd: number): Promise<void> => new Promise((resolve, reject) => fdatasync(fd, (e) => (e === null ? (flushes++, resolve()) : reject(e))));
  const store = SqliteAuditStore.open({ path: join(dir, `group-${durability}-${concurrent}.db`), durability, fdatasync: counted });
  const sink = new DurableAuditSink(store);
  const rates: number[] = [];
  const perRun: number[] = [];
  try {
    for (let round = 0; round <= ROUNDS; round += 1) {
      let next = 0;
      const f0 = flushes;
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrent }, async () => {
        while (next < GROUP_RUNS) {
          const i = next++;
          for (const e of runEvents(round * GROUP_RUNS + i)) sink.append(e);
          await sink.flush();
        }
      }));
      if (round === 0) continue; // warm-up: the WAL reaches its working size
      rates.push((GROUP_RUNS * 6) / ((performance.now() - started) / 1000));
      perRun.push((flushes - f0) / GROUP_RUNS);
    }
  } finally {
    await sink.close();
  }
  return { perS: median(rates), flushesPerRun: median(perRun) };
}

/** Opening a log of OPEN_RECORDS records, and the same file's quick_check (what open ran before). */
async function openTimes(dir: string): Promise<{ open: number; quickCheck: number }> {
  const path = join(dir, 'open.db');
  const store = SqliteAuditStore.open({ path, durability: 'batched' });
  const at = new Date().toISOString();
  for (let i = 0; i < OPEN_RECORDS / 6; i += 200) {
    const events = Array.from({ length: 200 }, (_, j) => runEvents(i + j)).flat().map((e): AuditEvent => ({ ...e, v: 1, at }));
    await store.append(events);
  }
  await store.close();
  const open: number[] = [];
  const quick: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    let t = performance.now();
    await SqliteAuditStore.open({ path }).close();
    open.push(performance.now() - t);
    const db = new DatabaseSync(path, { readOnly: true });
    t = performance.now();
    db.prepare('PRAGMA quick_check').all();
    quick.push(performance.now() - t);
    db.close();
  }
  return { open: median(open), quickCheck: median(quick) };
}

/** The audit figures (see the top of this file). */
export async function benchAudit(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-audit-'));
  try {
    const batched = await appendRate(dir, 6);
    const single = await appendRate(dir, 1);
    const floor = fsyncFloor(dir);
    const { verify, sha256 } = await verifyRates(dir);
    const group1 = await groupRate(dir, 'durable', 1);
    const group50 = await groupRate(dir, 'durable', 50);
    const batched1 = await groupRate(dir, 'batched', 1);
    const batched50 = await groupRate(dir, 'batched', 50);
    const opened = await openTimes(dir);
    return {
      audit_group_1_per_s: Math.round(group1.perS),
      audit_group_50_per_s: Math.round(group50.perS),
      audit_group_1_flushes_per_run: Number(group1.flushesPerRun.toFixed(3)),
      audit_group_50_flushes_per_run: Number(group50.flushesPerRun.toFixed(3)),
      audit_batched_1_per_s: Math.round(batched1.perS),
      audit_batched_50_per_s: Math.round(batched50.perS),
      audit_open_ms: Number(opened.open.toFixed(2)),
      audit_open_quick_check_ms: Number(opened.quickCheck.toFixed(2)),
      audit_open_records: OPEN_RECORDS,
      audit_append_per_s: Math.round(batched),
      audit_append_single_per_s: Math.round(single),
      audit_fsync_floor_per_s: Math.round(floor),
      audit_verify_per_s: Math.round(verify),
      audit_sha256_per_s: Math.round(sha256),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) process.stdout.write(`${JSON.stringify(await benchAudit())}\n`);
