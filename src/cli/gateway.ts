/**
 * `airlock gateway --config FILE`: upstream MCP servers behind policy (src/mcp/gateway.ts), served
 * to the agent over stdio, or with --http over streamable HTTP on 127.0.0.1 (Host and Origin checked,
 * one downstream session per client). The config (src/mcp/gateway-config.ts) declares which upstream tools
 * exist downstream and what each does; the policy it names grants them. Ends when stdin closes,
 * or on SIGTERM / SIGINT.
 *
 * @example
 *   // airlock gateway --config gateway.json
 */
import { Command } from 'commander';
import { AirlockError } from '../core/errors.ts';
import { transportFrom, withHttpFlags, type HttpFlags } from './mcp.ts';
import { policyFromFlags } from './run-input.ts';
import { readBounded } from './read-bounded.ts';
import { revokedIds, trustedKeys, warrantDirs } from './warrant-files.ts';

const CONFIG_BYTES = 1024 * 1024;

export function gatewayCommand(): Command {
  return withHttpFlags(new Command('gateway'), 7880)
    .description('serve upstream MCP servers through airlock: only the tools the config declares and the policy grants, each call authorized and audited')
    .requiredOption('--config <file>', 'gateway config JSON (upstreams, their declared tools, the policy)')
    .action(async (flags: HttpFlags & { readonly config: string }) => {
      const transport = transportFrom(flags);
      // Loaded when serving MCP only: the other commands start without the MCP stack.
      const { gatewayConfigFromText, inlinePolicy, policyPath } = await import('../mcp/gateway-config.ts');
      let text: string;
      try {
        text = readBounded(flags.config, CONFIG_BYTES, { code: 'INVALID_REQUEST', message: `the gateway config ${flags.config} is over 1 MiB` }).toString('utf8');
      } catch (error) {
        if (error instanceof AirlockError) throw error;
        throw new AirlockError('INVALID_REQUEST', `can't read the gateway config ${flags.config}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      const config = gatewayConfigFromText(text, flags.config);
      const path = policyPath(config, flags.config);
      const policy = path === null ? (inlinePolicy(config) ?? { version: 1 }) : policyFromFlags({ policy: path, allowNet: [] });
      const { startGateway } = await import('../mcp/gateway.ts');
      const dirs = warrantDirs(process.env);
      const gateway = await startGateway({ config, policy, tenant: config.tenant ?? 'default', airlock: { warrants: { trustedKeys: () => trustedKeys(dirs, []), revoked: () => revokedIds(dirs) } } });
      const signalled = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      let why: string;
      if (transport.kind === 'http') {
        const { serveMcpHttp } = await import('../mcp/http.ts');
        const served = await serveMcpHttp(() => gateway.session(), transport);
        process.stdout.write(`airlock gateway: listening on ${served.url}\n`);
        why = await signalled;
        await served.close();
      } else {
        const { StdioServerTransport } = await import('@modelcontextprotocol/server/stdio');
        const stdio = new StdioServerTransport();
        const server = gateway.session();
        const ended = new Promise<string>((resolve) => {
          const forget = server.onclose;
          server.onclose = () => {
            forget?.();
            resolve('the client closed the connection');
          };
          process.stdin.once('end', () => void stdio.close());
        });
        await server.connect(stdio);
        process.stderr.write('airlock gateway: serving on stdio\n');
        why = await Promise.race([ended, signalled]);
      }
      process.stderr.write(`airlock gateway: ${why}: closing\n`);
      await gateway.close();
    });
}
