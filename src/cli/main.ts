#!/usr/bin/env node
/** The airlock CLI: every command turns its input into the library's requests. */
import { Command, CommanderError } from 'commander';
import { AirlockError, codeInfo, type ErrorCode } from '../core/errors.ts';
import { auditCommand } from './audit.ts';
import { checkCommand } from './check.ts';
import { demoCommand } from './demo.ts';
import { runCommand } from './run.ts';

const program = new Command('airlock')
  .description('run code nobody trusts: default deny, grant by name, everything recorded')
  .showHelpAfterError()
  .addCommand(runCommand())
  .addCommand(demoCommand())
  .addCommand(auditCommand())
  .addCommand(checkCommand());

// With --json, a failure is still exactly one JSON object on stdout, so scripts can branch on its code.
function report(code: ErrorCode, message: string): void {
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  process.exitCode = codeInfo(code).exit;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof AirlockError) {
    process.stderr.write(`airlock: ${error.code}: ${error.message}\n`);
    report(error.code, error.message);
  } else {
    process.stderr.write(`airlock: INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    report('INTERNAL', 'an unexpected error; the details went to stderr');
  }
}
