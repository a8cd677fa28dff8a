/**
 * `airlock mcp`: airlock as an MCP server (src/mcp/) for an agent: run_code, a container session,
 * and with --code-mode `execute`. stdio by default (the agent starts it); `--http` serves
 * streamable HTTP on 127.0.0.1 with Host and Origin checked. Ends when stdin closes (stdio), or on
 * SIGTERM / SIGINT; the sessions' sandboxes are destroyed and every run is recorded.
 *
 * @example
 *   // airlock mcp --policy policy.json                   (stdio: put this in the agent's MCP config)
 *   // airlock mcp --http --port 7879 --policy policy.json
 */
import { Command } from 'commander';
import { AirlockError } from '../core/errors.ts';
import { TENANT_ID } from '../core/tenant.ts';
import { createAirlock } from '../runtime/airlock.ts';
import { revokedIds, trustedKeys, warrantDirs } from './warrant-files.ts';
import { policyFromFlags } from './run-input.ts';

export interface HttpFlags {
  readonly http?: true;
  readonly port: string;
  readonly allowHost: string[];
  readonly allowOrigin: string[];
}

interface McpFlags extends HttpFlags {
  readonly policy?: string;
  readonly tenant: string;
  readonly codeMode?: true;
  readonly sandboxes: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function count(flag: string, value: string, min: number, max: number): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new AirlockError('INVALID_REQUEST', `${flag} ${JSON.stringify(value)} must be a whole number from ${min} to ${max}`);
  return n;
}

/** The transport flags `mcp` and `gateway` share: stdio unless --http. */
export function withHttpFlags(command: Command, defaultPort: number): Command {
  return command
    .option('--http', 'serve streamable HTTP on 127.0.0.1 instead of stdio')
    .option('--port <n>', 'HTTP port (0: any free one)', String(defaultPort))
    .option('--allow-host <host:port>', 'HTTP: also serve this Host header (repeatable)', collect, [])
    .option('--allow-origin <origin>', 'HTTP: let browser pages from this Origin call (repeatable); default none', collect, []);
}

export function transportFrom(flags: HttpFlags): { readonly kind: 'stdio' } | { readonly kind: 'http'; readonly port: number; readonly allowHosts: readonly string[]; readonly allowOrigins: readonly string[] } {
  if (flags.http !== true) return { kind: 'stdio' };
  return { kind: 'http', port: count('--port', flags.port, 0, 65_535), allowHosts: flags.allowHost, allowOrigins: flags.allowOrigin };
}

export function mcpCommand(): Command {
  return withHttpFlags(new Command('mcp'), 7879)
    .description('serve airlock as an MCP server: run_code, container sessions (sandbox_*), and with --code-mode execute')
    .option('--policy <file>', 'policy JSON every run and sandbox gets (default: grant nothing)')
    .option('--tenant <id>', 'tenant every run and sandbox belongs to', 'default')
    .option('--code-mode', 'also offer execute (a TypeScript program against the typed tool API) and typescript_api')
    .option('--sandboxes <n>', 'container sandboxes one MCP session may hold at once', '4')
    .action(async (flags: McpFlags) => {
      if (!TENANT_ID.test(flags.tenant)) throw new AirlockError('INVALID_REQUEST', `--tenant ${JSON.stringify(flags.tenant)} is not a tenant id: use 1–63 of a-z 0-9 _ -`);
      const policy = policyFromFlags({ ...(flags.policy === undefined ? {} : { policy: flags.policy }), allowNet: [] });
      const transport = transportFrom(flags);
      // Loaded when serving MCP only: the other commands start without the MCP stack.
      const { startMcp } = await import('../mcp/serve.ts');
      // A call's warrant (in its _meta) chains to the root keys trusted under $AIRLOCK_HOME/warrants.
      const dirs = warrantDirs(process.env);
      const airlock = createAirlock({ warrants: { trustedKeys: () => trustedKeys(dirs, []), revoked: () => revokedIds(dirs) } });
      let mcp;
      try {
        mcp = await startMcp({ airlock, policy, tenant: flags.tenant, transport, codeMode: flags.codeMode === true ? 'on' : 'off', sandboxesPerSession: count('--sandboxes', flags.sandboxes, 1, 64) });
      } catch (error) {
        await airlock.close();
        throw error;
      }
      // stdout carries the protocol on stdio: everything else goes to stderr.
      if (mcp.url === null) process.stderr.write('airlock mcp: serving on stdio\n');
      else process.stdout.write(`airlock mcp: listening on ${mcp.url}\n`);
      const why = await Promise.race([
        mcp.ended.then(() => 'the client closed the connection'),
        new Promise<string>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        }),
      ]);
      process.stderr.write(`airlock mcp: ${why}: destroying the sessions' sandboxes\n`);
      await mcp.close();
      await airlock.close();
    });
}
