#!/usr/bin/env node
/** The airlock CLI: every command turns its input into the library's requests. */
import { Command, CommanderError } from 'commander';
import { AirlockError, codeInfo, type ErrorCode } from '../core/errors.ts';

/**
 * Each command's module, imported only when that command runs: `airlock run` does not load the
 * HTTP server, the MCP gateway or the container tier. Help, an unknown command and no command at
 * all load every one, so the listing and commander's suggestions stay whole.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => (await import('./run.ts')).runCommand(),
  demo: async () => (await import('./demo.ts')).demoCommand(),
  audit: async () => (await import('./audit.ts')).auditCommand(),
  check: async () => (await import('./check.ts')).checkCommand(),
  serve: async () => (await import('./serve.ts')).serveCommand(),
  keys: async () => (await import('./keys.ts')).keysCommand(),
  warrant: async () => (await import('./warrant.ts')).warrantCommand(),
  mcp: async () => (await import('./mcp.ts')).mcpCommand(),
  gateway: async () => (await import('./gateway.ts')).gatewayCommand(),
};

/** The program has no options of its own, so its first argument names the command, if any. */
const named = process.argv[2];
const load = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
const commands = await Promise.all(load.map((name) => (COMMANDS[name] as () => Promise<Command>)()));

const program = new Command('airlock')
  .description('run code nobody trusts: default deny, grant by name, everything recorded')
  .showHelpAfterError()
  .exitOverride();
for (const command of commands) program.addCommand(command);

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
