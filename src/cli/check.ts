/**
 * `airlock check`: the five-question threat report for a policy on a tier, each answer derived
 * from the policy and verified by live probes in real sandboxes. Exit 0 when the two agree on
 * every answer; CHECK_INCONSISTENT's exit code when they disagree (the worse answer is shown).
 *
 * @example
 *   // airlock check --tier container --policy policy.json --json
 */
import { Command } from 'commander';
import { codeInfo } from '../core/errors.ts';
import type { Tier } from '../core/result.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import { createAirlock } from '../runtime/airlock.ts';
import { readCordons } from './cordons-file.ts';
import { failingOnSignals } from './signals.ts';
import type { ToolHandler } from '../isolate/tool-bridge.ts';
import { runCheck } from '../check/check.ts';
import { reportJson } from '../check/questions.ts';
import { formatReport } from '../check/report.ts';
import { policyFromFlags, withPolicyFlags, type RunFlags } from './run-input.ts';

interface CheckFlags extends RunFlags {
  readonly cordons?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
}


/** Files, env or processes need the container tier; anything else runs on the isolate tier. */
export function tierFor(policy: PolicyDocument, flag: string | undefined): Tier {
  if (flag === 'container' || flag === 'isolate') return flag;
  return (policy.files ?? []).length > 0 || Object.keys(policy.env ?? {}).length > 0 ? 'container' : 'isolate';
}

// The probes never call a tool; a granted tool still needs a handler for the policy to compile here.
const refuse: ToolHandler = () => {
  throw new Error('airlock check does not call tools');
};

export function checkCommand(): Command {
  // --tier defaults to container when the policy grants files or env, else isolate (tierFor).
  return withPolicyFlags(new Command('check')
    .description('answer five questions about a policy — secrets, network, files, tenants, resources — from the policy and from live probes'))
    .option('--tenant <id>', 'tenant id the probes run as', 'check')
    .option('--cordons <file>', "the host's trust cordons (as `airlock serve --cordons`): the tenants answer is then the --tenant's in them")
    .option('--json', 'print exactly one JSON object: { tier, answers, consistent }')
    .option('--verbose', 'print the evidence in full')
    .action(async (flags: CheckFlags) => {
      const policy = policyFromFlags(flags);
      const tier = tierFor(policy, flags.tier);
      const tools = Object.fromEntries(Object.keys(policy.tools ?? {}).map((name) => [name, refuse]));
      await using airlock = createAirlock({ tools, ...(flags.cordons === undefined ? {} : { isolate: { cordons: readCordons(flags.cordons) } }) });
      // Probes that ran after a signal could not answer: a report from them would mislead.
      const report = await failingOnSignals(airlock, 'the report', () => runCheck(airlock, { tier, policy, ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }) }));
      if (flags.json === true) process.stdout.write(`${JSON.stringify(reportJson(report))}\n`);
      else process.stdout.write(formatReport(report, flags.verbose === true ? { width: Number.MAX_SAFE_INTEGER } : {}));
      if (!report.consistent) {
        process.stderr.write('airlock: CHECK_INCONSISTENT: the policy and the live probes disagree; the worse answer is shown\n');
        process.exitCode = codeInfo('CHECK_INCONSISTENT').exit;
      }
    });
}
