/** `airlock run`: one file, one sandbox, one result; the exit code comes from the error table. */
import { Command } from 'commander';
import { codeInfo } from '../core/errors.ts';
import type { RunResult } from '../core/result.ts';
import { createAirlock } from '../runtime/airlock.ts';
import { failedResult, NOT_CHOSEN } from '../runtime/failed-result.ts';
import { newId } from '../core/ids.ts';
import { runRequestFromFlags, withPolicyFlags, type RunFlags } from './run-input.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import { formatLearned, learnAfterRun } from './learn.ts';
import { closingOnSignals } from './signals.ts';
import { readToken, revokedIds, trustedKeys, warrantDirs } from './warrant-files.ts';

export function exitCodeOf(result: RunResult): number {
  return result.error === null ? 0 : codeInfo(result.error.code).exit;
}

function printHuman(result: RunResult): void {
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.result !== null) process.stdout.write(`${JSON.stringify(result.result, null, 2)}\n`);
  const usage = `${result.usage.wallMs.toFixed(1)} ms wall, ${result.usage.cpuMs.toFixed(1)} ms cpu`;
  const what = result.error === null ? 'ok' : `${result.status}: ${result.error.code}: ${result.error.message}`;
  process.stderr.write(`airlock: ${what} (${usage})\n`);
  for (const v of result.violations) process.stderr.write(`airlock: denied ${v.door}: ${v.detail}\n`);
}

export function runCommand(): Command {
  return withPolicyFlags(new Command('run')
    .description('run one file in a fresh sandbox')
    .argument('<file>', 'the code to run (.js .mjs .ts .wasm; .py .sh on the container tier), or - for stdin'))
    .option('--tenant <id>', 'tenant id', 'default')
    .option('--json', 'print exactly one JSON result object')
    // --learn (src/cli/learn.ts): print the smallest policy diff that would have let this run through.
    .option('--learn', 'after the run, print the grants it was denied as a policy diff (grants nothing itself)')
    // Verified against the root keys `airlock warrant keygen --trust` put under $AIRLOCK_HOME/warrants.
    .option('--warrant <file>', 'a warrant token (or a file holding one): every fetch must be granted by it too')
    .action(async (file: string, flags: RunFlags & { json?: boolean; learn?: boolean; warrant?: string }) => {
      const started = performance.now();
      let result: RunResult;
      let policy: PolicyDocument | undefined;
      const dirs = warrantDirs(process.env);
      const airlock = createAirlock({ warrants: { trustedKeys: () => trustedKeys(dirs, []), revoked: () => revokedIds(dirs) } });
      try {
        const request = { ...runRequestFromFlags(file, flags), ...(flags.warrant === undefined ? {} : { warrant: readToken(flags.warrant) }) };
        policy = request.policy;
        result = (await closingOnSignals(airlock, () => airlock.run(request))).value;
      } catch (error) {
        result = failedResult(newId('run'), flags.tier === 'container' ? 'container' : 'isolate', error, started, NOT_CHOSEN);
      } finally {
        await airlock.close();
      }
      // --learn: the run's JSON gains one key, `learned`; human output prints the diff after the run.
      const learned = flags.learn === true && policy !== undefined ? await learnAfterRun({ policy, result, tenant: flags.tenant ?? 'default' }) : undefined;
      if (flags.json === true) process.stdout.write(`${JSON.stringify(learned === undefined ? result : { ...result, learned })}\n`);
      else printHuman(result);
      if (learned !== undefined && flags.json !== true) process.stdout.write(formatLearned(learned));
      process.exitCode = exitCodeOf(result);
    });
}
