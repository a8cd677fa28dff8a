/**
 * cgroup resources from the policy: memory (swap off), pids, and a CPU share of one core. The
 * mechanism itself is src/os/cgroup.ts, shared with the isolate tier's workers.
 */
import type { Limits } from '../policy/schema.ts';

export interface CgroupResources {
  readonly memory: { readonly limit: number; readonly swap: number };
  readonly pids: { readonly limit: number };
  readonly cpu: { readonly quota: number; readonly period: number };
}

export function cgroupResources(limits: Limits): CgroupResources {
  const bytes = limits.memoryMiB * 1024 * 1024;
  // OCI's memory.swap is memory+swap: equal to the limit means no swap at all.
  return { memory: { limit: bytes, swap: bytes }, pids: { limit: limits.pids }, cpu: { quota: 100_000, period: 100_000 } };
}

/** The same resources in the shape Cgroup.create takes. */
export function cgroupLimits(r: CgroupResources): { memoryBytes: number; pids: number; cpu: { quotaUs: number; periodUs: number } } {
  return { memoryBytes: r.memory.limit, pids: r.pids.limit, cpu: { quotaUs: r.cpu.quota, periodUs: r.cpu.period } };
}
