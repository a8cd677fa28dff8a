/**
 * The resource budget: how much one sandbox may be granted before `check` calls it able to
 * exhaust the host. A policy's limits are compared against it, and the bombs never push past it
 * (so a probe of a very large limit stays bounded). The defaults suit a small shared host; a host
 * that means to give one sandbox more passes its own.
 */
import type { Tier } from '../core/result.ts';
import type { Limits } from '../policy/schema.ts';

export interface ResourceBudget {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly memoryMiB: number;
  readonly pids: number;
  readonly outputBytes: number;
  readonly workspaceMiB: number;
  readonly fileBytes: number;
  readonly toolCalls: number;
}

export const DEFAULT_BUDGET: ResourceBudget = {
  wallMs: 60_000,
  cpuMs: 10_000,
  memoryMiB: 512,
  pids: 256,
  outputBytes: 8 * 1024 * 1024,
  workspaceMiB: 1024,
  fileBytes: 1024 * 1024 * 1024,
  toolCalls: 10_000,
};

/** The limits each tier enforces (an isolate has no processes and no file system). */
export const TIER_LIMITS: Readonly<Record<Tier, readonly (keyof ResourceBudget)[]>> = {
  isolate: ['wallMs', 'cpuMs', 'memoryMiB', 'outputBytes', 'toolCalls'],
  container: ['wallMs', 'cpuMs', 'memoryMiB', 'pids', 'outputBytes', 'workspaceMiB', 'fileBytes'],
};

/** The limits of `limits` over the budget, for this tier. */
export function overBudget(tier: Tier, limits: Limits, budget: ResourceBudget): { name: keyof ResourceBudget; value: number; budget: number }[] {
  return TIER_LIMITS[tier].filter((k) => limits[k] > budget[k]).map((k) => ({ name: k, value: limits[k], budget: budget[k] }));
}
