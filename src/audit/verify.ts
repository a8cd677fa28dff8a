/**
 * Walks the whole chain from record 1 and reports the first record that does not follow from the
 * one before: an edited record fails at itself, a deleted one at its seq (the gap), a reordered
 * pair at the earlier of the two, a deleted tail at the first seq the head says should exist.
 *
 * Given a signed checkpoint (checkpoint.ts) from a witness, it also fails when the log is shorter
 * than the checkpoint (AUDIT_TRUNCATED), when the record at the checkpoint's seq has another hash
 * (AUDIT_CHAIN_BROKEN: rewritten), or when the checkpoint is not signed by a trusted key for this
 * log (AUDIT_CHECKPOINT_INVALID). That covers what the chain alone can't: whoever can write the
 * database can delete its tail and move its head back consistently.
 *
 * Clocks: `at` is the host's clock as it was given and may go backwards (NTP steps, another
 * host's clock in PostgreSQL); verify does not compare times. Order is seq, which the store
 * assigns under its write lock.
 *
 * Limit: records after the latest checkpoint are covered by the chain only; whoever holds the
 * signing key can sign a rewritten log (see the README, "Tamper evidence").
 */
import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, brokenLink, type ChainHead } from './chain.ts';
import { checkpointProblem, type Checkpoint } from './checkpoint.ts';
import type { AuditStore } from './store.ts';

/** Which check failed: the chain itself, a shortened log, or an unusable checkpoint. */
export type VerifyFailure = 'AUDIT_CHAIN_BROKEN' | 'AUDIT_TRUNCATED' | 'AUDIT_CHECKPOINT_INVALID';

export type VerifyResult =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead; readonly checkpoint: Checkpoint | null }
  | { readonly ok: false; readonly code: VerifyFailure; readonly count: number; readonly head: ChainHead; readonly brokenAt: number; readonly reason: string; readonly checkpoint: Checkpoint | null };

export interface VerifyOptions {
  /** Rows read per round trip. */
  readonly pageSize?: number;
  /** A head recorded earlier, elsewhere: the chain must still hold this hash at this seq. */
  readonly expect?: ChainHead;
  /** A signed checkpoint of this log and the public keys trusted to sign one. */
  readonly checkpoint?: { readonly checkpoint: Checkpoint; readonly trusted: readonly KeyObject[] };
}

/**
 * @example
 *   const r = await verifyChain(store, { checkpoint: { checkpoint: await witness.latest(store.logId), trusted: [publicKey] } });
 *   if (!r.ok) console.error(`${r.code} at seq ${r.brokenAt}: ${r.reason}`);
 */
export async function verifyChain(store: AuditStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  const pageSize = options.pageSize ?? 1000;
  const cp = options.checkpoint?.checkpoint ?? null;
  return store.readChain(async (reader) => {
    const head = await reader.head();
    let prev: ChainHead = { seq: 0, hash: GENESIS_HASH };
    let count = 0;
    const broken = (brokenAt: number, reason: string, code: VerifyFailure = 'AUDIT_CHAIN_BROKEN'): VerifyResult => ({ ok: false, code, count, head, brokenAt, reason, checkpoint: cp });
    if (cp !== null) {
      const problem = checkpointProblem(cp, store.logId, options.checkpoint?.trusted ?? []);
      if (problem !== null) return broken(cp.seq, `the checkpoint at seq ${cp.seq} signed at ${cp.at} is refused: ${problem}`, 'AUDIT_CHECKPOINT_INVALID');
    }
    const signed = cp === null ? '' : ` signed at ${cp.at} by key ${cp.key}`;
    for (;;) {
      const rows = await reader.rows(prev.seq, pageSize);
      for (const row of rows) {
        const why = brokenLink(prev, row);
        if (why !== null) return broken(Math.min(row.seq, prev.seq + 1), why);
        if (options.expect?.seq === row.seq && options.expect.hash !== row.hash) return broken(row.seq, 'its hash differs from the expected head recorded earlier (the chain was rewritten)');
        if (cp?.seq === row.seq && cp.hash !== row.hash) return broken(row.seq, `its hash differs from the checkpoint${signed} (the chain was rewritten)`);
        prev = { seq: row.seq, hash: row.hash };
        count += 1;
      }
      if (rows.length < pageSize) break;
    }
    if (prev.seq < head.seq) return broken(prev.seq + 1, `record ${prev.seq + 1} is missing (the head says the log ends at ${head.seq})`);
    if (prev.seq > head.seq) return broken(head.seq + 1, `record ${head.seq + 1} is past the recorded head (written outside airlock)`);
    if (prev.hash !== head.hash) return broken(prev.seq, 'its hash does not match the recorded head');
    if (options.expect !== undefined && options.expect.seq > prev.seq) return broken(prev.seq + 1, `the log ends before the expected head at seq ${options.expect.seq} (truncated)`);
    if (cp !== null && cp.seq > prev.seq) return broken(prev.seq + 1, `the log ends at seq ${prev.seq}, but the checkpoint${signed} says it reached seq ${cp.seq}: records ${prev.seq + 1}–${cp.seq} were deleted`, 'AUDIT_TRUNCATED');
    return { ok: true, count, head, checkpoint: cp };
  });
}
