/**
 * `check`: the five-question threat report for one policy on one tier. Each question is answered
 * twice — from the policy (policy-answers.ts) and from live probes in real sandboxes built with
 * that policy (observe-*.ts, bombs.ts) — and the worse answer wins; a disagreement is flagged.
 *
 * @example
 *   await using airlock = createAirlock();
 *   const report = await runCheck(airlock, { tier: 'container', policy: { version: 1 } });
 *   report.answers.network?.answer // 'no'
 */
import { homedir } from 'node:os';
import type { Tier } from '../core/result.ts';
import { RUN_DIR } from '../os/uids.ts';
import { compilePolicy } from '../policy/compile.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import type { Airlock } from '../runtime/airlock.ts';
import { airlockHome } from '../runtime/home.ts';
import { startBait } from './bait.ts';
import { airlockBombRunner, runBombs, type BombOutcome } from './bombs.ts';
import { DEFAULT_BUDGET, type ResourceBudget } from './budget.ts';
import { observeContainer, type ContainerOpener, type Observed } from './observe-container.ts';
import { observeIsolate } from './observe-isolate.ts';
import { policyAnswers, type HostFacts } from './policy-answers.ts';
import { combine, no, QUESTIONS, yes, type Answer, type CheckReport, type Finding, type Question } from './questions.ts';

export interface CheckOptions {
  readonly tier: Tier;
  readonly policy: PolicyDocument;
  /** The tenant the probes run as (default "check"); a second tenant is made beside it. */
  readonly tenant?: string;
  /** Ask only these questions (default: all five). */
  readonly questions?: readonly Question[];
  readonly budget?: Partial<ResourceBudget>;
  /** The longest host heartbeat gap that still counts as responsive (default 500 ms). */
  readonly maxGapMs?: number;
  /** AIRLOCK_HOME of `airlock` (default: $AIRLOCK_HOME or ~/.airlock). */
  readonly home?: string;
  /** Container tier: how the probes' sandboxes are made (default: `airlock.sandbox`). */
  readonly openContainer?: ContainerOpener;
}

export interface CheckResult extends CheckReport {
  readonly bombs: readonly BombOutcome[];
}

function resourcesObserved(bombs: readonly BombOutcome[]): Finding {
  const bad = bombs.filter((b) => !b.ok);
  const ran = bombs.filter((b) => b.applicable);
  const gap = Math.max(0, ...ran.map((b) => b.heartbeatMaxGapMs));
  if (bad.length > 0) return yes(bad.map((b) => b.note).join('; '));
  const each = ran.map((b) => `${b.kind} ${b.code ?? 'refused'} at ${b.measured ?? '?'}/${b.limit} ${b.unit}`).join(', ');
  const na = bombs.filter((b) => !b.applicable).map((b) => b.kind);
  return no(`every bomb was stopped within 1.5 × its limit: ${each}${na.length > 0 ? ` (${na.join(', ')}: not applicable)` : ''}; host heartbeat max gap ${gap} ms`);
}

/** Runs the probes for the asked questions; never rejects for a probe's failure (that answers "yes"). */
async function observe(airlock: Airlock, options: CheckOptions, facts: HostFacts, asked: readonly Question[]): Promise<{ observed: Partial<Record<Question, Finding>>; bombs: BombOutcome[] }> {
  const policy = compilePolicy(options.policy);
  const tenant = options.tenant ?? 'check';
  const otherTenant = `${tenant.slice(0, 56)}-nbr`;
  const observed: Partial<Record<Question, Finding>> = {};
  if (asked.some((q) => q !== 'resources')) {
    await using bait = await startBait();
    let seen: Observed;
    try {
      const ctx = { document: options.policy, policy, tenant, otherTenant, facts, bait };
      const open: ContainerOpener = options.openContainer ?? ((t, p) => airlock.sandbox({ tier: 'container', tenant: t, policy: p }));
      seen = options.tier === 'container' ? await observeContainer({ ...ctx, open }) : await observeIsolate({ ...ctx, airlock });
    } catch (error) {
      const f = yes(`could not verify: the probe failed (${error instanceof Error ? error.message : String(error)})`);
      seen = { secrets: f, network: f, files: f, tenants: f };
    }
    Object.assign(observed, seen);
  }
  let bombs: BombOutcome[] = [];
  if (asked.includes('resources')) {
    const runner = airlockBombRunner(airlock, { tier: options.tier, policy: options.policy, tenant });
    bombs = await runBombs(runner, policy.limits, { budget: facts.budget, ...(options.maxGapMs === undefined ? {} : { maxGapMs: options.maxGapMs }) });
    observed.resources = resourcesObserved(bombs);
  }
  return { observed, bombs };
}

/** Answers the questions for one policy on one tier. Rejects only on a bad policy (INVALID_POLICY). */
export async function runCheck(airlock: Airlock, options: CheckOptions): Promise<CheckResult> {
  const policy = compilePolicy(options.policy);
  const tenant = options.tenant ?? 'check';
  const cordon = options.tier === 'isolate' ? airlock.isolate.cordons.cordonOf(tenant) : null;
  const facts: HostFacts = {
    home: homedir(),
    airlockHome: options.home ?? airlockHome(),
    runDir: RUN_DIR,
    budget: { ...DEFAULT_BUDGET, ...options.budget },
    cordon: cordon === null ? null : { name: cordon, mates: airlock.isolate.cordons.matesOf(tenant).length },
  };
  const asked = QUESTIONS.filter((q) => options.questions === undefined || options.questions.includes(q));
  const fromPolicy = policyAnswers(options.tier, policy, facts);
  const { observed, bombs } = await observe(airlock, options, facts, asked);
  const answers: Partial<Record<Question, Answer>> = {};
  for (const q of asked) answers[q] = combine(fromPolicy[q], observed[q] ?? yes('could not verify: no probe ran'));
  return { tier: options.tier, answers, consistent: asked.every((q) => answers[q]?.agree === true), bombs };
}
