/**
 * GET /v1/runs/events as a stream: the tenant's run.started and run.ended records as server-sent
 * events (data: the run's summary, id: the record's audit seq), live as the log takes them, and
 * from a seq the client names first (Last-Event-ID or ?afterSeq=) read back from the store.
 *
 * Only records whose event names the caller's tenant are ever written to the stream; the filter
 * is the first thing the listener does. A client that reads slower than runs happen is let go
 * (its queue is bounded) and reconnects with the last id it saw; nothing is lost that way.
 *
 * @example
 *   return runEventStream(c, { feed, tenant, afterSeq, release });
 */
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { AuditRecord } from '../audit/chain.ts';
import { QUERY_PAGE, type TenantId } from '../audit/store.ts';
import type { AuditFeed } from './audit-feed.ts';
import type { ServerEnv } from './guard.ts';
import { runRecords, SUMMARY_RECORDS } from './run-history.ts';
import { startedSummary, runSummary } from './run-view.ts';

/** Records a stream holds for a client that has not read them yet; past it the stream ends. */
export const STREAM_QUEUE = 1000;
/** A comment line this often keeps proxies from closing a quiet stream, and finds clients that left. */
export const KEEPALIVE_MS = 15_000;

export interface RunStreamOptions {
  readonly feed: AuditFeed;
  readonly tenant: TenantId;
  /** Replay from after this seq first; absent: live from now. */
  readonly afterSeq: number | undefined;
  /** Gives the caller's stream slot back when the stream ends. */
  readonly release: () => void;
}

function isRunEvent(r: AuditRecord, tenant: TenantId): boolean {
  return r.event.tenant === tenant && (r.event.kind === 'run.started' || r.event.kind === 'run.ended');
}

/** Writes one record as its event (a record whose run can't be read as one is skipped). */
async function send(out: SSEStreamingApi, options: RunStreamOptions, r: AuditRecord): Promise<void> {
  const run = r.event.run;
  if (run === undefined) return;
  // run.started: the run as it started; run.ended: as the log holds it up to its end.
  const summary = r.event.kind === 'run.started' ? startedSummary(r) : runSummary(await runRecords(options.feed, options.tenant, run, { max: SUMMARY_RECORDS, upToSeq: r.seq }));
  if (summary === undefined) return;
  await out.writeSSE({ event: r.event.kind, id: String(r.seq), data: JSON.stringify(summary) });
}

export function runEventStream(c: Context<ServerEnv>, options: RunStreamOptions): Response {
  const { feed, tenant } = options;
  return streamSSE(c, async (out) => {
    const left = new AbortController();
    out.onAbort(() => left.abort());
    const aborted = new Promise<void>((resolve) => left.signal.addEventListener('abort', () => resolve(), { once: true }));
    const queue: AuditRecord[] = [];
    let wake = Promise.withResolvers<undefined>();
    // Listening starts before the replay reads, so nothing appended meanwhile is missed (seq dedupes).
    const stop = feed.listen((records) => {
      for (const r of records) {
        if (!isRunEvent(r, tenant)) continue;
        if (queue.length >= STREAM_QUEUE) {
          left.abort();
          out.abort();
          return;
        }
        queue.push(r);
      }
      wake.resolve(undefined);
    }, () => left.abort());
    try {
      let last = options.afterSeq ?? 0;
      if (options.afterSeq !== undefined) {
        for (;;) {
          const page = await feed.query({ tenant, afterSeq: last, limit: QUERY_PAGE });
          for (const r of page) {
            if (left.signal.aborted) return;
            if (isRunEvent(r, tenant)) await send(out, options, r);
            last = r.seq;
          }
          if (page.length < QUERY_PAGE) break;
        }
      }
      while (!left.signal.aborted) {
        // A fresh wake before the queue is read: a record pushed after this resolves it.
        wake = Promise.withResolvers<undefined>();
        const woken = wake.promise;
        for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
          if (r.seq <= last) continue;
          await send(out, options, r);
          last = r.seq;
        }
        const timer: { id?: NodeJS.Timeout } = {};
        const quiet = new Promise<'quiet'>((resolve) => (timer.id = setTimeout(() => resolve('quiet'), KEEPALIVE_MS)));
        const why = await Promise.race([woken, aborted, quiet]);
        clearTimeout(timer.id);
        if (why === 'quiet') await out.write(': keep-alive\n\n');
      }
    } finally {
      stop();
      options.release();
    }
  });
}
