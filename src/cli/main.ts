#!/usr/bin/env node
/** The airlock CLI: every command turns its input into the library's requests. */
import { Command, CommanderError } from 'commander';
import { AirlockError, codeInfo, type ErrorCode } from '../core/errors.ts';
import { auditCommand } from './audit.ts';
import { checkCommand } from './check.ts';
import { demoCommand } from './demo.ts';
import { gatewayCommand } from './gateway.ts';
import { keysCommand } from './keys.ts';
import { mcpCommand } from './mcp.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { warrantCommand } from './warrant.ts';

const program = new Command('airlock')
  .description('run code nobody trusts: default deny, grant by name, everything recorded')
  .showHelpAfterError()
  .exitOverride()
  .addCommand(runCommand())
  .addCommand(demoCommand())
  .addCommand(auditCommand())
  .addCommand(checkCommand())
  .addCommand(serveCommand())
  .addCommand(keysCommand())
  .addCommand(warrantCommand())
  .addCommand(mcpCommand())
  .addCommand(gatewayCommand());

// Usage errors reach the catch below from every command, however it was made (addCommand does
// not pass exitOverride on).
const overrideExits = (command: Command): void => {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
};
overrideExits(program);

// With --json, a failure is still exactly one JSON object on stdout, so scripts can branch on its code.
function report(code: ErrorCode, message: string, result: 'printed' | 'not-printed' = 'not-printed'): void {
  if (process.argv.includes('--json') && result === 'not-printed') process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  process.exitCode = codeInfo(code).exit;
}

// A reader that went away (`airlock audit list | head`) ends the output, not with a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit();
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version end 0; a usage error (commander has printed it) is a bad request, exit 2,
    // not the 1 that means the guest failed.
    if (error.exitCode === 0) process.exitCode = 0;
    else report('INVALID_REQUEST', error.message);
  } else if (error instanceof AirlockError) {
    process.stderr.write(`airlock: ${error.code}: ${error.message}\n`);
    report(error.code, error.message, error.details?.['printed'] === true ? 'printed' : 'not-printed');
  } else {
    process.stderr.write(`airlock: INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    report('INTERNAL', 'an unexpected error; the details went to stderr');
  }
}
