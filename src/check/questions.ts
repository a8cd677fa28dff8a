/**
 * The five questions `airlock check` answers, and how an answer from the policy and an answer from
 * a live probe become one: when they disagree, the worse one ("yes") wins and the report is flagged.
 */
import type { Tier } from '../core/result.ts';

export const QUESTIONS = ['secrets', 'network', 'files', 'tenants', 'resources'] as const;
export type Question = (typeof QUESTIONS)[number];

/** What each question asks, in the words of the report. */
export const ASKS: Readonly<Record<Question, string>> = {
  secrets: 'can it read secrets?',
  network: 'can it reach the network?',
  files: 'can it read files outside its workspace?',
  tenants: "can it see or affect another tenant's sandbox?",
  resources: 'can it exhaust resources?',
};

export type YesNo = 'yes' | 'no';

/** One side's answer: yes or no, and the evidence that says so. */
export interface Finding {
  readonly answer: YesNo;
  readonly evidence: string;
}

export const yes = (evidence: string): Finding => ({ answer: 'yes', evidence });
export const no = (evidence: string): Finding => ({ answer: 'no', evidence });

/** One question's combined answer. */
export interface Answer {
  readonly answer: YesNo;
  /** "yes — …" / "no — …": what the policy grants. */
  readonly policy: string;
  /** "yes — …" / "no — …": what the probe saw inside a real sandbox. */
  readonly observed: string;
  /** The two sides agree. */
  readonly agree: boolean;
}

export interface CheckReport {
  readonly tier: Tier;
  readonly answers: Readonly<Partial<Record<Question, Answer>>>;
  /** Every side of every question asked agrees. */
  readonly consistent: boolean;
}

/** Combines the two sides: the worse answer wins; a disagreement is flagged. */
export function combine(policy: Finding, observed: Finding): Answer {
  const answer: YesNo = policy.answer === 'yes' || observed.answer === 'yes' ? 'yes' : 'no';
  return {
    answer,
    policy: `${policy.answer} — ${policy.evidence}`,
    observed: `${observed.answer} — ${observed.evidence}`,
    agree: policy.answer === observed.answer,
  };
}

/** The report as the `--json` contract (ARCHITECTURE.md): `{ tier, answers, consistent }`. */
export function reportJson(report: CheckReport): { tier: Tier; answers: Partial<Record<Question, { answer: YesNo; policy: string; observed: string }>>; consistent: boolean } {
  const answers: Partial<Record<Question, { answer: YesNo; policy: string; observed: string }>> = {};
  for (const q of QUESTIONS) {
    const a = report.answers[q];
    if (a !== undefined) answers[q] = { answer: a.answer, policy: a.policy, observed: a.observed };
  }
  return { tier: report.tier, answers, consistent: report.consistent };
}
