/** The check report for people: a short table, then each answer's evidence. */
import { ASKS, QUESTIONS, type CheckReport } from './questions.ts';

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * @example
 *   process.stdout.write(formatReport(report, { width: 160 }));
 */
export function formatReport(report: CheckReport, options: { readonly width?: number } = {}): string {
  const width = options.width ?? 160;
  const lines = [`airlock check — ${report.tier} tier`, '', 'question   answer  policy  probe', '---------  ------  ------  -----'];
  for (const q of QUESTIONS) {
    const a = report.answers[q];
    if (a === undefined) continue;
    const side = (s: string) => (s.startsWith('yes') ? 'yes' : 'no');
    lines.push(`${q.padEnd(9)}  ${a.answer.toUpperCase().padEnd(6)}  ${side(a.policy).padEnd(6)}  ${side(a.observed).padEnd(5)}${a.agree ? '' : '  ← DISAGREE: the worse answer is shown'}`);
  }
  lines.push('');
  for (const q of QUESTIONS) {
    const a = report.answers[q];
    if (a === undefined) continue;
    lines.push(`${q}: ${ASKS[q]} ${a.answer}`, `  policy:   ${clip(a.policy, width)}`, `  observed: ${clip(a.observed, width)}`);
  }
  lines.push('', report.consistent ? 'consistent: the policy and the live probes agree on every answer' : 'INCONSISTENT: the policy and the live probes disagree (see ← above)', '');
  return lines.join('\n');
}
