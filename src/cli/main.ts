#!/usr/bin/env node
/** The airlock CLI: every command turns its input into the library's requests. */
import { Command, CommanderError } from 'commander';
import { AirlockError, codeInfo } from '../core/errors.ts';
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof AirlockError) {
    process.stderr.write(`airlock: ${error.code}: ${error.message}\n`);
    process.exitCode = codeInfo(error.code).exit;
  } else {
    process.stderr.write(`airlock: INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = codeInfo('INTERNAL').exit;
  }
}
