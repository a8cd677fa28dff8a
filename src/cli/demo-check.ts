/**
 * The `airlock check` part of `airlock demo`: the five answers for each policy the demo used, each
 * from the policy and from live probes in real sandboxes.
 *
 * @example
 *   await demoCheck((line) => console.log(line), airlock);
 */
import type { Tier } from '../core/result.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import type { Airlock } from '../runtime/airlock.ts';
import { runCheck } from '../check/check.ts';
import { QUESTIONS } from '../check/questions.ts';

export interface DemoPolicy {
  readonly name: string;
  readonly tier: Tier;
  readonly policy: PolicyDocument;
}

/** The demo's policies (src/cli/demo.ts and demo-container.ts); the lead may pass the live ones. */
export const DEMO_POLICIES: readonly DemoPolicy[] = [
  {
    name: 'the weather snippet',
    tier: 'isolate',
    policy: {
      version: 1,
      tools: { getWeather: { operation: 'read', args: { type: 'object', properties: { city: { type: 'string', maxLength: 64 } }, required: ['city'], additionalProperties: false } } },
      limits: { wallMs: 2000, cpuMs: 250, memoryMiB: 32 },
    },
  },
  { name: 'the python workbench', tier: 'container', policy: { version: 1, env: { HOST_HOME: '/root' }, limits: { cpuMs: 500 } } },
];

/** Prints one short table per policy: each answer, and whether policy and probe agree. */
export async function demoCheck(out: (line: string) => void, airlock: Airlock, policies: readonly DemoPolicy[] = DEMO_POLICIES): Promise<void> {
  for (const p of policies) {
    const report = await runCheck(airlock, { tier: p.tier, policy: p.policy, tenant: 'demo' });
    out(`check: ${p.name} (${p.tier} tier) — answered from the policy and verified by live probes`);
    for (const q of QUESTIONS) {
      const a = report.answers[q];
      if (a === undefined) continue;
      out(`check:   ${q.padEnd(9)} ${a.answer.padEnd(3)} ${a.agree ? '' : '(DISAGREE) '}${a.observed.slice(0, 140)}`);
    }
    out(`check:   ${report.consistent ? 'consistent' : 'INCONSISTENT: the worse answer is shown'}`);
  }
}
