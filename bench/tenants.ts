/**
 * Many tenants on one host, both modes: process per tenant (the default) and trust cordons.
 *
 * Throughput: 400 runs of one tool call each, 50 at a time, a cold pass then a warm one; the warm
 * pass of 20 tenants against the warm pass of 1 tenant, same process, same run
 * (`isolate_multitenant_vs_single_ratio`, `_cordon`: the 20 tenants in one cordon), each on the
 * defaults: a tenant grows to `workersPerTenant` workers, a cordon to `workersPerCordon`, all within
 * `maxWorkers` (the worker counts are printed beside the figures).
 *
 * Memory: N tenants each run once and stay live (one warm worker per tenant, or per cordon of
 * CORDON_SIZE tenants); the marginal memory per
 * tenant is the growth of the host plus all its workers over N. Proportional set size (PSS: a
 * shared page counted once, split between its sharers) is the figure; RSS (a shared page counted
 * in every process that maps it, so the node binary once per worker) is printed beside it.
 * `isolate_tenants_live_max*` is what fits in 24 GiB at that figure (extrapolated);
 * `isolate_tenants_live_measured*` is how many were actually live at once in this bench.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditSink } from '../src/audit/event.ts';
import { createAirlock, type Airlock } from '../src/index.ts';
import { Cgroup } from '../src/os/cgroup.ts';
import { round } from './stats.ts';

const RUNS = 400;
const CONCURRENCY = 50;
const TENANTS = 20;
const HOST_BYTES = 24 * 1024 ** 3;
/** Tenants per cordon in the memory bench: a cordon's workers are shared by this many. */
const CORDON_SIZE = 50;
const POLICY = { version: 1 as const, tools: { echo: { operation: 'compute' as const, args: { type: 'object' } } } };
const CODE = 'export default async () => tools.echo({ n: 1 })';

/** The bench measures the pool, not the log: events are dropped (the durable log's cost is `bench/audit.ts`'s). */
const dropAudit = (): AuditSink => ({ append: () => undefined, flush: () => Promise.resolve(), close: () => Promise.resolve() });
const home = (): string => mkdtempSync(join(tmpdir(), 'airlock-bench-tenants-'));

interface Pass {
  readonly perS: number;
  readonly p99Ms: number;
  readonly failed: number;
}

async function pass(airlock: Airlock, tenants: readonly string[]): Promise<Pass> {
  const times: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    for (let i = next++; i < RUNS; i = next++) {
      const t = performance.now();
      const r = await airlock.run({ tenant: tenants[i % tenants.length], code: CODE, policy: POLICY });
      times.push(performance.now() - t);
      if (r.status !== 'ok') {
        failed++;
        // What failed goes to stderr (stdout is the JSON): a loaded machine shows here first.
        process.stderr.write(`bench tenants: run failed: ${r.status} ${r.error?.code ?? ''} ${(r.error?.message ?? '').slice(0, 160)}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { perS: RUNS / seconds, p99Ms: times[Math.floor(times.length * 0.99)] ?? 0, failed };
}

/** A cold pass (workers start), then the warm pass that is the figure. */
async function throughput(tenants: readonly string[], cordons: Readonly<Record<string, readonly string[]>>): Promise<{ cold: Pass; warm: Pass; workers: number }> {
  await using airlock = createAirlock({ home: home(), audit: dropAudit(), tools: { echo: (a) => a }, isolate: { cordons } });
  const cold = await pass(airlock, tenants);
  const warm = await pass(airlock, tenants);
  return { cold, warm, workers: airlock.isolate.workers().length };
}

function smaps(pid: number): { rss: number; pss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** Memory of this host process and every isolate worker process it started (their cgroups' processes). */
async function footprint(): Promise<{ rss: number; pss: number; workers: number }> {
  const mine = (await Cgroup.list()).filter((n) => n.startsWith('isolate-') && n.endsWith(`-${process.pid}`));
  const pids = [process.pid];
  for (const name of mine) pids.push(...(await (await Cgroup.attach(name)).pids()));
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    const m = smaps(pid);
    rss += m.rss;
    pss += m.pss;
  }
  return { rss, pss, workers: mine.length };
}

/** N tenants live at once: each ran once and keeps its warm worker (or its cordon's). */
async function perTenant(count: number, cordonSize: number | null): Promise<{ pssMb: number; rssMb: number; baseMb: number; live: number; workers: number }> {
  const tenants = Array.from({ length: count }, (_, i) => `mem-${i}`);
  const cordons: Record<string, string[]> = {};
  if (cordonSize !== null) for (let i = 0; i < count; i++) (cordons[`c${Math.floor(i / cordonSize)}`] ??= []).push(tenants[i] as string);
  await using airlock = createAirlock({ home: home(), audit: dropAudit(), tools: { echo: (a) => a }, isolate: { workersPerTenant: 1, workersPerCordon: 1, maxWorkers: 100_000, idleWorkerMs: 600_000, cordons } });
  // One run first so the host has loaded everything a run needs; the baseline is taken after it.
  await airlock.run({ tenant: 'warmup', code: CODE, policy: POLICY });
  const base = await footprint();
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await airlock.run({ tenant: tenants[i], code: CODE, policy: POLICY });
  };
  await Promise.all(Array.from({ length: cordonSize === null ? 4 : 16 }, lane));
  const live = tenants.filter((t) => airlock.isolate.workers(t).length > 0).length;
  const after = await footprint();
  const mb = (bytes: number): number => bytes / count / 1024 / 1024;
  return { pssMb: mb(after.pss - base.pss), rssMb: mb(after.rss - base.rss), baseMb: base.pss / 1024 / 1024, live, workers: after.workers - base.workers };
}

export async function benchTenants(): Promise<Record<string, number>> {
  const many = Array.from({ length: TENANTS }, (_, i) => `t${i}`);
  const single = await throughput(['solo'], {});
  const multi = await throughput(many, {});
  const cordoned = await throughput(many, { shared: many });
  // The single-tenant baseline again, last: the ratio uses the mean of before and after (drift).
  const again = await throughput(['solo'], {});
  const singleWarm = (single.warm.perS + again.warm.perS) / 2;
  const processMem = await perTenant(16, null);
  const cordonMem = await perTenant(2000, CORDON_SIZE);
  const liveMax = (mb: number, baseMb: number): number => Math.floor((HOST_BYTES / 1024 / 1024 - baseMb) / mb);
  return {
    isolate_single_tenant_warm_runs_per_s: round(singleWarm, 0),
    isolate_single_tenant_workers: single.workers,
    isolate_single_tenant_warm_p99_ms: round(Math.max(single.warm.p99Ms, again.warm.p99Ms), 0),
    isolate_multitenant_warm_runs_per_s: round(multi.warm.perS, 0),
    isolate_multitenant_warm_p99_ms: round(multi.warm.p99Ms, 0),
    isolate_multitenant_cold_runs_per_s: round(multi.cold.perS, 0),
    isolate_multitenant_workers: multi.workers,
    isolate_multitenant_vs_single_ratio: round(multi.warm.perS / singleWarm, 2),
    isolate_multitenant_cordon_warm_runs_per_s: round(cordoned.warm.perS, 0),
    isolate_multitenant_cordon_warm_p99_ms: round(cordoned.warm.p99Ms, 0),
    isolate_multitenant_cordon_workers: cordoned.workers,
    isolate_multitenant_vs_single_ratio_cordon: round(cordoned.warm.perS / singleWarm, 2),
    isolate_multitenant_failed_runs: single.cold.failed + single.warm.failed + multi.cold.failed + multi.warm.failed + cordoned.cold.failed + cordoned.warm.failed + again.cold.failed + again.warm.failed,
    isolate_tenant_mb: round(processMem.pssMb, 1),
    isolate_tenant_rss_mb: round(processMem.rssMb, 1),
    isolate_tenants_live_measured: processMem.live,
    isolate_tenants_live_max: liveMax(processMem.pssMb, processMem.baseMb),
    isolate_tenant_mb_cordon: round(cordonMem.pssMb, 3),
    isolate_tenant_rss_mb_cordon: round(cordonMem.rssMb, 3),
    isolate_tenants_live_measured_cordon: cordonMem.live,
    isolate_tenants_live_cordon_workers: cordonMem.workers,
    isolate_tenants_cordon_size: CORDON_SIZE,
    isolate_tenants_live_max_cordon: liveMax(cordonMem.pssMb, cordonMem.baseMb),
  };
}
