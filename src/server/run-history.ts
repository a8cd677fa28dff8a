/**
 * Runs read back from the audit store, always within one tenant: a page of summaries newest
 * first, or one run whole. Every read is bounded: a page reads at most SCAN_RUNS runs (a filter
 * that matches few runs answers a short page and a cursor to go on from), and a run at most
 * RUN_RECORDS of its records.
 *
 * @example
 *   const page = await listRuns(store, tenant, { status: 'error' }, { limit: 50 });
 *   const run = await readRun(store, tenant, page.runs[0].id);   // NOT_FOUND when not the tenant's
 */
import type { AuditRecord } from '../audit/chain.ts';
import { QUERY_PAGE, type AuditStore, type TenantId } from '../audit/store.ts';
import { AirlockError } from '../core/errors.ts';
import type { Tier } from '../core/result.ts';
import { runDetail, runSummary, type RunDetail, type RunSummary } from './run-view.ts';

/** Runs one page reads at most, matching or not. */
export const SCAN_RUNS = 200;
/**
 * Records of one run read at most: for its detail, and (fewer) for its summary in a list. A run's
 * decisions are bounded by its limits (toolCalls, denials), but those may be large; these bound
 * the read. A run with more shows the counts of the records read.
 */
export const RUN_RECORDS = 5 * QUERY_PAGE;
export const SUMMARY_RECORDS = QUERY_PAGE;
/** Decisions one run's detail lists. */
export const DECISIONS_SHOWN = 1000;

export interface RunFilter {
  readonly status?: RunSummary['status'];
  readonly tier?: Tier;
  readonly tool?: string;
  readonly code?: string;
  /** ISO, inclusive, on run.started's time. */
  readonly since?: string;
  /** ISO, exclusive. */
  readonly until?: string;
}

export interface RunPage {
  readonly runs: RunSummary[];
  readonly next: string | null;
}

/**
 * The records of `tenant`'s run `id`, in seq order: at most `max`, none after `upToSeq`. A run with
 * more has its run.ended fetched besides, so how it ended shows whatever the bound cut.
 */
export async function runRecords(store: AuditStore, tenant: TenantId, id: string, bounds: { readonly max: number; readonly upToSeq?: number }): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  const within = (r: AuditRecord): boolean => bounds.upToSeq === undefined || r.seq <= bounds.upToSeq;
  let after = 0;
  let cut = false;
  for (;;) {
    const want = Math.min(QUERY_PAGE, bounds.max - out.length);
    const page = await store.query({ tenant, run: id, afterSeq: after, limit: want });
    out.push(...page.filter(within));
    const last = page.at(-1);
    if (page.length < want || last === undefined || !within(last)) break;
    if (out.length >= bounds.max) {
      cut = true;
      break;
    }
    after = last.seq;
  }
  if (cut && !out.some((r) => r.event.kind === 'run.ended')) out.push(...(await store.query({ tenant, run: id, kind: 'run.ended', limit: 1 })).filter(within));
  return out;
}

function matches(run: RunSummary, filter: RunFilter): boolean {
  if (filter.status !== undefined && run.status !== filter.status) return false;
  if (filter.tool !== undefined && !run.tools.includes(filter.tool)) return false;
  if (filter.code !== undefined && run.errorCode !== filter.code && !run.deniedCodes.includes(filter.code)) return false;
  return true;
}

/** A page of the tenant's runs, newest first, from before `before` (a seq cursor). */
export async function listRuns(store: AuditStore, tenant: TenantId, filter: RunFilter, page: { readonly limit: number; readonly before?: number }): Promise<RunPage> {
  const runs: RunSummary[] = [];
  let cursor = page.before;
  let scanned = 0;
  for (;;) {
    const batch = Math.min(100, SCAN_RUNS - scanned);
    const starts = await store.query({
      tenant,
      kind: 'run.started',
      order: 'desc',
      limit: batch,
      ...(cursor === undefined ? {} : { beforeSeq: cursor }),
      ...(filter.since === undefined ? {} : { since: filter.since }),
      ...(filter.until === undefined ? {} : { until: filter.until }),
    });
    for (const start of starts) {
      scanned += 1;
      cursor = start.seq;
      if (start.event.kind !== 'run.started' || start.event.run === undefined) continue;
      if (filter.tier !== undefined && start.event.tier !== filter.tier) continue;
      const summary = runSummary(await runRecords(store, tenant, start.event.run, { max: SUMMARY_RECORDS }));
      if (summary !== undefined && matches(summary, filter)) runs.push(summary);
      if (runs.length === page.limit) return { runs, next: String(start.seq) };
    }
    // Fewer than asked: the log holds no older run of this tenant.
    if (starts.length < batch) return { runs, next: null };
    if (scanned >= SCAN_RUNS) return { runs, next: cursor === undefined ? null : String(cursor) };
  }
}

/** The same answer for a run that does not exist and for another tenant's: ids can't be probed. */
export function runNotFound(id: string): AirlockError {
  return new AirlockError('NOT_FOUND', `no run ${JSON.stringify(id.slice(0, 100))} in your tenant: list yours with GET /v1/runs`);
}

/** One of the tenant's runs whole, or NOT_FOUND. */
export async function readRun(store: AuditStore, tenant: TenantId, id: string): Promise<RunDetail> {
  const detail = runDetail(await runRecords(store, tenant, id, { max: RUN_RECORDS }), { decisionsShown: DECISIONS_SHOWN });
  if (detail === undefined) throw runNotFound(id);
  return detail;
}
