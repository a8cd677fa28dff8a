// Audit log figures, with their baselines measured in the same run:
//   audit_append_per_s          durable events/s through DurableAuditSink + SQLite, flushed as a run
//                               writes them (6 events: started, 3 decisions, ended, destroyed)
//   audit_append_single_per_s   baseline: the same with one event per flush (no batching)
//   audit_fsync_floor_per_s     baseline: the same bytes appended to a plain file, one fdatasync per
//                               6 events: what durability costs on this disk with no database at all
//   audit_verify_per_s          records/s that verifyChain walks (read, parse, hash, compare)
//   audit_sha256_per_s          baseline: records/s of hashing alone, on the same encodings
// Medians over several rounds. Run alone: node bench/audit.ts
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordHash } from '../src/audit/chain.ts';
import { canonicalJson } from '../src/core/canonical-json.ts';
import { DurableAuditSink } from '../src/audit/durable-sink.ts';
import type { AuditEvent, AuditEventBody } from '../src/audit/event.ts';
import { SqliteAuditStore } from '../src/audit/sqlite-store.ts';
import { verifyChain } from '../src/audit/verify.ts';

const ROUNDS = 5;
const FLUSHES_PER_ROUND = 200;
const VERIFY_RECORDS = 6000;

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

/** The audit figures (see the top of this file). */
export async function benchAudit(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-audit-'));
  try {
    const batched = await appendRate(dir, 6);
    const single = await appendRate(dir, 1);
    const floor = fsyncFloor(dir);
    const { verify, sha256 } = await verifyRates(dir);
    return {
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
