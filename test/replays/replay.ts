// Replays one case through airlock's public API: fresh worlds, a tenant of its own (so the label
// store starts empty for it), each step's program under its task's warrant, then the effect read
// off the worlds. What the guest attempted plays no part in the outcome.
import { mintWarrant } from '../../src/authority/mint.ts';
import type { SigningKey } from '../../src/authority/keys.ts';
import assert from 'node:assert/strict';
import type { Airlock, RunResult } from '../../src/index.ts';
import type { ReplayCase, Step } from './case.ts';
import type { Office } from './worlds/office.ts';

export interface Outcome {
  readonly id: string;
  readonly world: string;
  readonly kind: ReplayCase['kind'];
  readonly expect: NonNullable<ReplayCase['expect']> | 'complete';
  /** The case's effect happened (benign: the task was done; attack: the attack succeeded); null: not run. */
  readonly effect: boolean | null;
  /** The denial codes the runs recorded (their violations, or the code a program answered with), in order. */
  readonly denials: readonly string[];
  /** Each run's status and result, for a failure's message. */
  readonly runs: readonly { readonly status: string; readonly result: unknown; readonly error: string | null }[];
}

export interface ReplayHost {
  readonly airlock: Airlock;
  readonly office: Office;
  /** Mints a task's warrant for a tenant; null: run without one (the policy alone decides). */
  readonly signer: SigningKey | null;
  /** Whether the guest has `subrun` and `unwrap` (see `probeSubruns`). */
  readonly subruns: boolean;
}

/** Sub-runs are offered when a policy's limits.subruns is above 0 and this airlock knows them. */
const SUBRUN_LIMITS = { subruns: 4, wallMs: 20_000, cpuMs: 5_000 };

/** Whether this airlock gives the guest `subrun` and `unwrap` (an older one refuses the limit or has no such globals). */
export async function probeSubruns(airlock: Airlock, office: Office, tenant: string): Promise<boolean> {
  const r = await airlock.run({ tenant, code: 'export default [typeof subrun, typeof unwrap]', policy: { ...office.policy(), limits: SUBRUN_LIMITS } });
  return r.status === 'ok' && JSON.stringify(r.result) === '["function","function"]';
}

export async function replay(host: ReplayHost, c: ReplayCase, tenant: string): Promise<Outcome> {
  const expect = c.expect ?? (c.kind === 'benign' ? 'complete' : 'blockable');
  if (expect === 'not-expressible' || (c.needs === 'subrun' && !host.subruns)) return { id: c.id, world: c.world, kind: c.kind, expect: 'not-expressible', effect: null, denials: [], runs: [] };
  const worlds = host.office.reset();
  c.setup?.(worlds);
  const policy = c.needs === 'subrun' ? { ...host.office.policy(), limits: SUBRUN_LIMITS } : host.office.policy();
  const denials: string[] = [];
  const runs: Outcome['runs'][number][] = [];
  const start = (step: Step): Promise<RunResult> => {
    const code = typeof step.code === 'string' ? step.code : step.code(host.office.site.origin);
    const now = Date.now();
    const warrant =
      host.signer === null
        ? undefined
        : mintWarrant({ signer: host.signer, tenant, now, expiresAt: now + 600_000, grants: [...(step.warrant.grants ?? [{ tool: '**', ops: ['*'] }])], ...(step.warrant.flow === undefined ? {} : { flow: step.warrant.flow }) });
    return host.airlock.run({ tenant, code, policy, ...(warrant === undefined ? {} : { warrant }) });
  };
  const results: RunResult[] = [];
  const [first, ...rest] = c.steps;
  if (c.interleave !== undefined && first !== undefined) {
    const release = c.interleave.hold(worlds);
    const held = start(first);
    try {
      // Bounded polling for the world state the case waits for (never a sleep that guesses).
      for (let i = 0; i < 2000 && !c.interleave.until(worlds); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.ok(c.interleave.until(worlds), `${c.id}: the held run never reached the point the case waits for`);
      for (const step of rest) results.push(await start(step));
    } finally {
      release();
    }
    results.unshift(await held);
  } else {
    for (const step of c.steps) results.push(await start(step));
  }
  for (const r of results) {
    denials.push(...r.violations.map((v) => v.code));
    // A child run's denial is recorded on the child; the parent's program answers with its code.
    if (typeof r.result === 'string' && /^[A-Z][A-Z_]+$/.test(r.result) && !denials.includes(r.result)) denials.push(r.result);
    runs.push({ status: r.status, result: r.result, error: r.error === null ? null : `${r.error.code}: ${r.error.message}` });
  }
  return { id: c.id, world: c.world, kind: c.kind, expect, effect: c.effect(worlds), denials, runs };
}

/** The outcome in a word: what the world shows. */
export function verdict(o: Outcome): string {
  if (o.effect === null) return 'not run';
  if (o.kind === 'benign') return o.effect ? 'completed' : 'NOT COMPLETED';
  return o.effect ? 'SUCCEEDED' : 'blocked';
}

export function table(outcomes: readonly Outcome[]): string {
  const rows = [['case', 'world', 'kind', 'expected', 'outcome', 'denials'], ...outcomes.map((o) => [o.id, o.world, o.kind, o.expect, verdict(o), [...new Set(o.denials)].join(',') || '-'])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
