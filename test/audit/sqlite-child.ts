// Child processes for sqlite-store.test.ts: each mode runs in a fresh process, so durability and
// cross-process locking are tested against the real file, not one connection's cache.
//   flush-then-die PATH    append a run's events, flush, print "flushed", then SIGKILL itself
//   append-then-die PATH   append without flushing, then SIGKILL itself
//   hammer PATH NAME N     append N batches of 5 events
//   full-disk DIR          (in a private tmpfs at DIR) fill the disk and report what flush did
import { writeSync, openSync, closeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DurableAuditSink } from '../../src/audit/durable-sink.ts';
import type { AuditEventBody } from '../../src/audit/event.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { AirlockError } from '../../src/core/errors.ts';

function runEvents(sandbox: string): AuditEventBody[] {
  const base = { tenant: 'acme', sandbox, run: `run_${sandbox}` } as const;
  return [
    { ...base, kind: 'run.started', tier: 'isolate', codeHash: 'h', code: 'return 1', language: 'js', policyHash: 'p' },
    { ...base, kind: 'decision', door: 'tool', subject: 'readMail', allow: true, reason: 'GRANTED' },
    { ...base, kind: 'decision', door: 'network', subject: 'example.com', allow: false, reason: 'EGRESS_NOT_GRANTED' },
    { ...base, kind: 'decision', door: 'limit', subject: 'toolCalls', allow: false, reason: 'LIMIT_TOOL_CALLS' },
    { ...base, kind: 'run.ended', status: 'ok', errorCode: null, usage: { wallMs: 1, cpuMs: 1, memoryBytes: 1 } },
  ];
}

const [mode = '', target = '', name = 'x', count = '1'] = process.argv.slice(2);

async function main(): Promise<void> {
  switch (mode) {
    case 'flush-then-die':
    case 'append-then-die': {
      const sink = new DurableAuditSink(SqliteAuditStore.open({ path: target }));
      for (const e of runEvents('sbx_dies')) sink.append(e);
      if (mode === 'flush-then-die') {
        await sink.flush();
        writeSync(1, 'flushed\n');
      }
      process.kill(process.pid, 'SIGKILL');
      return;
    }
    case 'hammer': {
      const sink = new DurableAuditSink(SqliteAuditStore.open({ path: target }));
      for (let i = 0; i < Number(count); i += 1) {
        for (const e of runEvents(`sbx_${name}_${i}`)) sink.append(e);
        await sink.flush();
      }
      await sink.close();
      return;
    }
    case 'full-disk': {
      const path = join(target, 'audit.db');
      const sink = new DurableAuditSink(SqliteAuditStore.open({ path }));
      for (const e of runEvents('sbx_before')) sink.append(e);
      await sink.flush();
      const filler = join(target, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (let i = 0; i < 100_000; i += 1) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
      // Top up to the last byte: smaller writes until even one byte fails.
      for (const size of [4096, 512, 1]) {
        try {
          for (let i = 0; i < 100_000; i += 1) writeSync(fd, chunk.subarray(0, size));
        } catch {
          // ENOSPC: on to the next, smaller size.
        }
      }
      closeSync(fd);
      sink.append({ tenant: 'acme', sandbox: 'sbx_full', run: 'run_full', kind: 'run.started', tier: 'isolate', codeHash: 'h', code: 'x'.repeat(256 * 1024), language: 'js', policyHash: 'p' });
      const failed = await sink.flush().then(
        () => 'resolved',
        (e: unknown) => (e instanceof AirlockError ? e.code : `uncoded: ${String(e)}`),
      );
      const pendingAfterFailure = sink.pending;
      const reader = SqliteAuditStore.open({ path });
      const storedWhileFull = (await reader.query({})).length;
      const verifiedWhileFull = (await verifyChain(reader)).ok;
      unlinkSync(filler);
      await sink.flush();
      const storedAfter = (await reader.query({})).length;
      const verifiedAfter = (await verifyChain(reader)).ok;
      await reader.close();
      await sink.close();
      writeSync(1, JSON.stringify({ failed, pendingAfterFailure, storedWhileFull, verifiedWhileFull, storedAfter, verifiedAfter }));
      return;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

await main();
