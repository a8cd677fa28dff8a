/**
 * Walks the whole chain from record 1 and reports the first record that does not follow from the
 * one before: an edited record fails at itself, a deleted one at its seq (the gap), a reordered
 * pair at the earlier of the two, a deleted tail at the first seq the head says should exist.
 *
 * Clocks: `at` is the host's clock as it was given and may go backwards (NTP steps, another
 * host's clock in PostgreSQL); verify does not compare times. Order is seq, which the store
 * assigns under its write lock.
 *
 * Limit: someone who can write the database can rewrite the whole chain and its head
 * consistently. Keep the printed head (seq and hash) somewhere they can't reach, and check with
 * `expect` that the chain still contains it.
 */
import { GENESIS_HASH, brokenLink, type ChainHead } from './chain.ts';
import type { AuditStore } from './store.ts';

export type VerifyResult =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead }
  | { readonly ok: false; readonly count: number; readonly head: ChainHead; readonly brokenAt: number; readonly reason: string };

export interface VerifyOptions {
  /** Rows read per round trip. */
  readonly pageSize?: number;
  /** A head recorded earlier, elsewhere: the chain must still hold this hash at this seq. */
  readonly expect?: ChainHead;
}

/**
 * @example
 *   const r = await verifyChain(store);
 *   if (!r.ok) console.error(`broken at seq ${r.brokenAt}: ${r.reason}`);
 */
export async function verifyChain(store: AuditStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  const pageSize = options.pageSize ?? 1000;
  return store.readChain(async (reader) => {
    const head = await reader.head();
    let prev: ChainHead = { seq: 0, hash: GENESIS_HASH };
    let count = 0;
    const broken = (brokenAt: number, reason: string): VerifyResult => ({ ok: false, count, head, brokenAt, reason });
    for (;;) {
      const rows = await reader.rows(prev.seq, pageSize);
      for (const row of rows) {
        const why = brokenLink(prev, row);
        if (why !== null) return broken(Math.min(row.seq, prev.seq + 1), why);
        if (options.expect?.seq === row.seq && options.expect.hash !== row.hash) return broken(row.seq, 'its hash differs from the expected head recorded earlier (the chain was rewritten)');
        prev = { seq: row.seq, hash: row.hash };
        count += 1;
      }
      if (rows.length < pageSize) break;
    }
    if (prev.seq < head.seq) return broken(prev.seq + 1, `record ${prev.seq + 1} is missing (the head says the log ends at ${head.seq})`);
    if (prev.seq > head.seq) return broken(head.seq + 1, `record ${head.seq + 1} is past the recorded head (written outside airlock)`);
    if (prev.hash !== head.hash) return broken(prev.seq, 'its hash does not match the recorded head');
    if (options.expect !== undefined && options.expect.seq > prev.seq) return broken(prev.seq + 1, `the log ends before the expected head at seq ${options.expect.seq} (truncated)`);
    return { ok: true, count, head };
  });
}
