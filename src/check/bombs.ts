/**
 * The resource-bomb harness: a loop, a memory bomb, a fork bomb, a disk filler and an output flood,
 * each run in a real sandbox under a policy's limits while a host-side heartbeat ticks. A bomb
 * passes when its own limit stopped it within 1.5 × that limit and the host stayed responsive. Each
 * bomb bounds itself (at twice its limit, never past the budget), so one that no limit stops still
 * ends and is reported as not stopped. Each limit is probed alone: the bombs other than the loop run
 * with the CPU and wall limits raised to the budget, and a bomb stopped by any other limit than its
 * own does not pass (a CPU limit that happens to interrupt a memory bomb on a slow machine says
 * nothing about the memory limit; a faster machine or a slower bomb would get past it). Usable by
 * itself:
 *
 * @example
 *   const runner = airlockBombRunner(airlock, { tier: 'container', policy, tenant: 'acme' });
 *   const outcome = await runBomb(runner, 'memory', compilePolicy(policy).limits);
 *   assert.ok(outcome.ok, outcome.note);
 */
import type { ErrorCode } from '../core/errors.ts';
import type { RunResult, RunStatus, Tier } from '../core/result.ts';
import type { PolicyDocument, Limits } from '../policy/schema.ts';
import type { Airlock } from '../runtime/airlock.ts';
import { BOMB_KINDS, containerBomb, isolateBomb, type BombKind } from './bomb-scripts.ts';
import { DEFAULT_BUDGET, type ResourceBudget } from './budget.ts';
import { startHeartbeat } from './heartbeat.ts';

export { BOMB_KINDS, type BombKind } from './bomb-scripts.ts';

/** Limits a bomb's run raises above the policy's (never lowers), so that only its own limit can stop it. */
export type RaisedLimits = Partial<Pick<Limits, 'cpuMs' | 'wallMs'>>;

/** Runs one piece of code in a fresh sandbox of one tier under one policy, with some limits raised. */
export interface BombRunner {
  readonly tier: Tier;
  run(code: string, raised: RaisedLimits): Promise<RunResult>;
}

/** A runner over the library API: every bomb gets a one-shot sandbox with the given policy. */
export function airlockBombRunner(airlock: Airlock, options: { readonly tier: Tier; readonly policy: PolicyDocument; readonly tenant: string }): BombRunner {
  const { tier, tenant } = options;
  return {
    tier,
    run: (code, raised) => {
      const policy = { ...options.policy, limits: { ...options.policy.limits, ...raised } };
      return airlock.run(tier === 'container' ? { tier, tenant, policy, code, language: 'python' } : { tier, tenant, policy, code, language: 'js' });
    },
  };
}

export interface BombOptions {
  readonly budget?: ResourceBudget;
  /** The longest heartbeat gap that still counts as responsive (default 500 ms). */
  readonly maxGapMs?: number;
}

export interface BombOutcome {
  readonly kind: BombKind;
  readonly tier: Tier;
  /** False where the tier has no such resource (no processes or files in an isolate). */
  readonly applicable: boolean;
  readonly limitName: string;
  readonly limit: number;
  readonly unit: 'ms cpu' | 'MiB' | 'processes' | 'bytes';
  /** How far the bomb got (CPU ms, MiB, processes, bytes); null when it was killed before it could say. */
  readonly measured: number | null;
  /** Its own limit stopped it (it did not reach its own bound, and no other limit or failure ended it). */
  readonly stopped: boolean;
  /** It was stopped within 1.5 × the limit. */
  readonly within: boolean;
  readonly status: RunStatus | null;
  readonly code: ErrorCode | null;
  readonly heartbeatMaxGapMs: number;
  readonly wallMs: number;
  readonly ok: boolean;
  readonly note: string;
}

interface Shape {
  readonly limitName: string;
  readonly limit: number;
  readonly unit: BombOutcome['unit'];
  readonly target: number;
}

const MiB = 1024 * 1024;

function shapeOf(kind: BombKind, limits: Limits, budget: ResourceBudget): Shape {
  switch (kind) {
    case 'loop': {
      const limit = Math.min(limits.cpuMs, limits.wallMs);
      return { limitName: limits.cpuMs <= limits.wallMs ? 'cpuMs' : 'wallMs', limit, unit: 'ms cpu', target: Math.min(2 * limit, budget.cpuMs) };
    }
    case 'memory':
      return { limitName: 'memoryMiB', limit: limits.memoryMiB, unit: 'MiB', target: Math.min(2 * limits.memoryMiB, budget.memoryMiB) };
    case 'fork':
      return { limitName: 'pids', limit: limits.pids, unit: 'processes', target: Math.min(2 * limits.pids, budget.pids) };
    case 'disk':
      return { limitName: 'workspaceMiB', limit: limits.workspaceMiB * MiB, unit: 'bytes', target: Math.min(2 * limits.workspaceMiB, budget.workspaceMiB) * MiB };
    case 'output':
      return { limitName: 'outputBytes', limit: limits.outputBytes, unit: 'bytes', target: Math.min(2 * limits.outputBytes, budget.outputBytes) };
  }
}

/** Only the loop probes the CPU and wall limits; every other bomb runs with them at the budget, when that is higher. */
function raisedFor(kind: BombKind, limits: Limits, budget: ResourceBudget): RaisedLimits {
  if (kind === 'loop') return {};
  return { cpuMs: Math.max(limits.cpuMs, budget.cpuMs), wallMs: Math.max(limits.wallMs, budget.wallMs) };
}

/** What stopped a bomb that did not end by itself, and whether that was its own limit. */
function stopOf(kind: BombKind, r: RunResult): { readonly by: string; readonly own: boolean } {
  const code = r.error?.code;
  if (code === undefined) {
    const refused = /^REFUSED /m.test(r.stdout);
    return { by: refused ? 'refused by the kernel' : r.status, own: refused && (kind === 'fork' || kind === 'disk') };
  }
  const own: Record<BombKind, readonly ErrorCode[]> = { loop: ['CPU_TIMEOUT', 'WALL_TIMEOUT'], memory: ['MEMORY_LIMIT'], fork: [], disk: [], output: ['OUTPUT_LIMIT'] };
  return { by: code, own: own[kind].includes(code) };
}

function lastNumber(text: string, word: string): number | null {
  const all = [...text.matchAll(new RegExp(`^${word} (?:\\w+ )?(\\d+)`, 'gm'))];
  const m = all[all.length - 1]?.[1];
  return m === undefined ? null : Number(m);
}

function measure(kind: BombKind, r: RunResult): number | null {
  const out = r.stdout;
  switch (kind) {
    case 'loop':
      return Math.round(r.usage.cpuMs);
    case 'memory': {
      const said = Math.max(lastNumber(out, 'AT') ?? 0, lastNumber(out, 'ENDED') ?? 0);
      return Math.max(said, Math.round(r.usage.memoryBytes / MiB));
    }
    case 'fork': {
      const n = lastNumber(out, 'REFUSED') ?? lastNumber(out, 'ENDED');
      return n === null ? null : n + 1; // the bomb itself is a process too
    }
    case 'disk':
      return lastNumber(out, 'REFUSED') ?? lastNumber(out, 'ENDED');
    case 'output':
      return Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr);
  }
}

/** Runs one bomb and judges it. */
export async function runBomb(runner: BombRunner, kind: BombKind, limits: Limits, options: BombOptions = {}): Promise<BombOutcome> {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const maxGap = options.maxGapMs ?? 500;
  const shape = shapeOf(kind, limits, budget);
  const code = runner.tier === 'container' ? containerBomb(kind, shape.target, limits.fileBytes) : isolateBomb(kind, shape.target);
  const base = { kind, tier: runner.tier, limitName: shape.limitName, limit: shape.limit, unit: shape.unit };
  if (code === null) {
    return { ...base, applicable: false, measured: null, stopped: true, within: true, status: null, code: null, heartbeatMaxGapMs: 0, wallMs: 0, ok: true, note: `not applicable: an isolate has no ${kind === 'fork' ? 'processes' : 'file system'}` };
  }
  const hb = startHeartbeat();
  const started = performance.now();
  const r = await runner.run(code, raisedFor(kind, limits, budget));
  const wallMs = Math.round(performance.now() - started);
  const gap = hb.stop().maxGapMs;
  const measured = measure(kind, r);
  const ended = /^ENDED /m.test(r.stdout) && r.status === 'ok';
  const stop = stopOf(kind, r);
  const stopped = !ended && stop.own;
  const within = measured === null ? stopped : measured <= 1.5 * shape.limit;
  const responsive = gap <= maxGap;
  const how = ended
    ? `reached its own bound of ${shape.target} ${shape.unit} without being stopped`
    : stop.own
      ? `stopped (${stop.by})`
      : `stopped by ${stop.by}, not by its own limit (${shape.limitName}): that limit is unverified`;
  const at = measured === null ? 'before it could report' : `at ${measured} ${shape.unit}`;
  const note = `${kind}: ${how} ${at}, limit ${shape.limitName} ${shape.limit} ${shape.unit}; host heartbeat max gap ${gap} ms${responsive ? '' : ` (over ${maxGap} ms: the host stalled)`}`;
  return { ...base, applicable: true, measured, stopped, within, status: r.status, code: r.error?.code ?? null, heartbeatMaxGapMs: gap, wallMs, ok: stopped && within && responsive, note };
}

/** Runs every bomb, one after another (so each one's heartbeat measures it alone). */
export async function runBombs(runner: BombRunner, limits: Limits, options: BombOptions = {}): Promise<BombOutcome[]> {
  const outcomes: BombOutcome[] = [];
  for (const kind of BOMB_KINDS) outcomes.push(await runBomb(runner, kind, limits, options));
  return outcomes;
}
